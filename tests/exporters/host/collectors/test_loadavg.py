import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.loadavg import LoadavgCollector, parse_loadavg
from fleetwatch.exporters.host.snapshot import Snapshot


def test_parse_real_loadavg() -> None:
    assert parse_loadavg((FIXTURES / "loadavg").read_text()) == (0.21, 0.35, 0.38)


def test_collect_emits_three_gauges() -> None:
    out = Families()
    snap = Snapshot(files={"/proc/loadavg": "1.00 2.50 3.25 1/100 42\n"})
    LoadavgCollector().collect(snap, out, Options())
    assert out.get("node_load1") == 1.0
    assert out.get("node_load5") == 2.5
    assert out.get("node_load15") == 3.25


@pytest.mark.parametrize("text", ["", "1.0 2.0", "a b c d e"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/loadavg"):
        parse_loadavg(text)
