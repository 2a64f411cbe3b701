import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.stat import StatCollector, parse_stat
from fleetwatch.exporters.host.snapshot import Snapshot


def test_collect_real_stat() -> None:
    out = Families()
    snap = Snapshot(files={"/proc/stat": (FIXTURES / "stat").read_text()})
    StatCollector().collect(snap, out, Options())
    assert out.get("node_intr_total") == 249235
    assert out.get("node_context_switches_total") == 522899
    assert out.get("node_boot_time_seconds") == 1795331219
    assert out.get("node_forks_total") == 7746
    assert out.get("node_procs_running") == 1
    assert out.get("node_procs_blocked") == 0
    assert len(out) == 6


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="/proc/stat: not readable"):
        StatCollector().collect(Snapshot(), Families(), Options())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "cpu 1 2 3 4\n",
        "intr x\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n",
        "\x00\x01\xfe binary",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/stat"):
        parse_stat(text)
