import pytest

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import NoData, Options
from fleetwatch.exporters.host.collectors.schedstat import SchedstatCollector, parse_schedstat
from fleetwatch.exporters.host.snapshot import Snapshot

# Edge-case sample in the kernel's version 15 layout, made up: the machine the other fixtures
# come from has no /proc/schedstat (CONFIG_SCHEDSTATS off).
SAMPLE = """version 15
timestamp 4296424356
cpu0 0 0 0 0 0 0 2053460358721 35187522633 1204563
domain0 00000003 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
cpu1 0 0 0 0 0 0 999000000000 1000000000 77
"""


def collect(files: dict[str, str]) -> Families:
    out = Families()
    SchedstatCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_collect_sample() -> None:
    out = collect({"/proc/schedstat": SAMPLE})
    assert out.get("node_schedstat_running_seconds_total", {"cpu": "0"}) == 2053460358721 / 1e9
    assert out.get("node_schedstat_waiting_seconds_total", {"cpu": "0"}) == 35187522633 / 1e9
    assert out.get("node_schedstat_timeslices_total", {"cpu": "0"}) == 1204563
    assert out.get("node_schedstat_running_seconds_total", {"cpu": "1"}) == 999.0
    assert out.get("node_schedstat_waiting_seconds_total", {"cpu": "1"}) == 1.0
    assert len(out) == 6


def test_absent_file_is_no_data() -> None:
    with pytest.raises(NoData):  # success 0 without an error, as node_exporter's ErrNoData
        collect({})


@pytest.mark.parametrize(
    "text",
    ["cpu0 1 2 3\n", "version 15\ncpu0 0 0 0 0 0 0 x 1 2\n", "\x00\xff\x01 junk\n"],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/schedstat"):
        parse_schedstat(text)
