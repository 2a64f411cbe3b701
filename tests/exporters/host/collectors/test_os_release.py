import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.os_release import (
    OsReleaseCollector,
    os_version,
    parse_os_release,
)
from fleetwatch.exporters.host.snapshot import Snapshot

OS_RELEASE = (FIXTURES / "etc/os-release").read_text()


def collect(files: dict[str, str]) -> Families:
    out = Families()
    OsReleaseCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_real_debian() -> None:
    out = collect({"/etc/os-release": OS_RELEASE})
    info = {
        "build_id": "", "id": "debian", "id_like": "", "image_id": "", "image_version": "",
        "name": "Debian GNU/Linux", "pretty_name": "Debian GNU/Linux 12 (bookworm)",
        "variant": "", "variant_id": "", "version": "12 (bookworm)",
        "version_codename": "bookworm", "version_id": "12",
    }  # fmt: skip
    assert out.get("node_os_info", info) == 1
    version = {"id": "debian", "id_like": "", "name": "Debian GNU/Linux"}
    assert out.get("node_os_version", version) == 12


def test_fallback_quoting_and_version() -> None:
    text = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n# c\n\nX=\'a b\'\n'
    out = collect({"/usr/lib/os-release": text})
    assert out.get("node_os_version", {"id": "ubuntu", "id_like": "debian", "name": "Ubuntu"}) == (
        22.04
    )
    assert parse_os_release(text)["X"] == "a b"
    assert parse_os_release('A="x \\"y\\" \\$z"\n')["A"] == 'x "y" $z'
    assert os_version("rolling") == 0
    assert os_version("9.1.2") == 9.1


def test_no_file_no_samples() -> None:
    assert len(collect({})) == 0


@pytest.mark.parametrize("text", ["garbage line\n", 'A="unterminated\n', "=x\n"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="os-release"):
        collect({"/etc/os-release": text})
