import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.vmstat import VmstatCollector, parse_vmstat
from fleetwatch.exporters.host.snapshot import Snapshot

VMSTAT = (FIXTURES / "vmstat").read_text()


def collect(opts: Options) -> Families:
    out = Families()
    VmstatCollector().collect(Snapshot(files={"/proc/vmstat": VMSTAT}), out, opts)
    return out


def test_default_fields_only() -> None:
    out = collect(Options())
    assert out.get("node_vmstat_pgfault") == 2644841
    assert out.get("node_vmstat_pgmajfault") == 1426
    assert out.get("node_vmstat_pgpgin") == 1559245
    assert out.get("node_vmstat_oom_kill") == 0
    assert out.get("node_vmstat_nr_free_pages") is None
    assert out.names() == {
        "node_vmstat_oom_kill",
        "node_vmstat_pgfault",
        "node_vmstat_pgmajfault",
        "node_vmstat_pgpgin",
        "node_vmstat_pgpgout",
        "node_vmstat_pswpin",
        "node_vmstat_pswpout",
    }
    assert {m.type for m in out.collect()} == {"unknown"}


def test_custom_regex() -> None:
    out = collect(Options(vmstat_fields=r"^nr_free_pages$"))
    assert out.names() == {"node_vmstat_nr_free_pages"}
    assert out.get("node_vmstat_nr_free_pages") == 1149548


def test_parse_returns_every_field() -> None:
    assert len(parse_vmstat(VMSTAT)) == len(VMSTAT.splitlines())


@pytest.mark.parametrize("text", ["", "pgfault\n", "pgfault x\n", "pgfault 1 2\n", "\x00\x01 2"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/vmstat"):
        parse_vmstat(text)
