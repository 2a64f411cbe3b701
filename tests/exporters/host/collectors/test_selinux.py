import pytest

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.selinux import SelinuxCollector, parse_config_mode
from fleetwatch.exporters.host.snapshot import Snapshot


def _collect(files: dict[str, str]) -> Families:
    out = Families()
    SelinuxCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_without_selinuxfs_only_enabled_zero() -> None:
    out = _collect({})
    assert out.get("node_selinux_enabled") == 0
    assert out.get("node_selinux_current_mode") is None


def test_enforcing_host() -> None:
    out = _collect(
        {
            "/sys/fs/selinux/enforce": "1",
            "/etc/selinux/config": "# comment\nSELINUX=permissive\nSELINUXTYPE=targeted\n",
        }
    )
    assert out.get("node_selinux_enabled") == 1
    assert out.get("node_selinux_current_mode") == 1
    assert out.get("node_selinux_config_mode") == 0


def test_config_without_mode_is_disabled() -> None:
    assert parse_config_mode("SELINUXTYPE=targeted\n") == -1


@pytest.mark.parametrize("files", [{"/sys/fs/selinux/enforce": "yes"}])
def test_garbage(files: dict[str, str]) -> None:
    with pytest.raises(ParseError):
        _collect(files)


def test_unknown_config_mode() -> None:
    with pytest.raises(ParseError, match="unknown SELINUX mode"):
        parse_config_mode("SELINUX=maybe\n")
