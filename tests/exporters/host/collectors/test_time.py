import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.time import TimeCollector, parse_date
from fleetwatch.exporters.host.snapshot import Snapshot

CS = "/sys/devices/system/clocksource/clocksource0"


def collect(date: str) -> Families:
    files = {
        f"{CS}/{n}": (FIXTURES / CS.lstrip("/") / n).read_text()
        for n in ("available_clocksource", "current_clocksource")
    }
    out = Families()
    TimeCollector().collect(Snapshot(files=files, commands={"date": date}), out, Options())
    return out


def test_date_and_clocksources() -> None:
    out = collect((FIXTURES / "cmd/date.txt").read_text())
    assert out.get("node_time_seconds") == 1795333973.172242412
    assert out.get("node_time_zone_offset_seconds", {"time_zone": "UTC"}) == 0
    avail = out.samples("node_time_clocksource_available_info")
    assert sorted(lbl["clocksource"] for lbl, _ in avail) == ["kvm-clock", "tsc"]
    assert out.get("node_time_clocksource_current_info", {"device": "0", "clocksource": "tsc"}) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000.250000000 +0530 IST\n", (1700000000.25, 19800, "IST")),
        ("1700000000.N -0330 NST\n", (1700000000.0, -12600, "NST")),
        ("1700000000.%N +0000 UTC\n", (1700000000.0, 0, "UTC")),  # busybox date
    ],
)
def test_parse_date(text: str, expected: tuple[float, int, str]) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "date: invalid option\n", "17e8.1 +0000 UTC\n", "1.2 UTC\n"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="date"):
        collect(text)
