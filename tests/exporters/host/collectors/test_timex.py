import subprocess
from pathlib import Path

import pytest

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.timex import (
    PYTHON,
    SNIPPET,
    TimexCollector,
    parse_timex,
    timex_values,
)
from fleetwatch.exporters.host.snapshot import Snapshot

FIXTURES = Path(__file__).parents[3] / "fixtures"
TIMEX = (FIXTURES / "cmd/timex.txt").read_text()


def collect(text: str) -> Families:
    out = Families()
    TimexCollector().collect(Snapshot(commands={"timex": text}), out, Options())
    return out


def test_real_unsynchronized_clock() -> None:
    # the values node_exporter 1.5 reported on this machine
    out = collect(TIMEX)
    assert out.get("node_timex_sync_status") == 0
    assert out.get("node_timex_status") == 64
    assert out.get("node_timex_maxerror_seconds") == 16
    assert out.get("node_timex_estimated_error_seconds") == 16
    assert out.get("node_timex_tick_seconds") == 0.01
    assert out.get("node_timex_loop_time_constant") == 2
    assert out.get("node_timex_frequency_adjustment_ratio") == 1
    assert out.get("node_timex_pps_jitter_total") == 0
    assert len(out) == 17


def test_units_follow_sta_nano_and_ppm_scaling() -> None:
    raw = parse_timex(TIMEX)
    raw.update(state=0, status=0x2001, offset=1500, freq=-655360, jitter=2000, stabil=65536)
    values = {spec.name: v for spec, v in timex_values(raw)}
    assert values["node_timex_sync_status"] == 1
    assert values["node_timex_offset_seconds"] == 1500 / 1e9
    assert values["node_timex_pps_jitter_seconds"] == 2000 / 1e9
    assert values["node_timex_frequency_adjustment_ratio"] == 1 - 10 / 1e6
    assert values["node_timex_pps_stability_hertz"] == 1 / 1e6
    raw.update(status=1)
    values = {spec.name: v for spec, v in timex_values(raw)}
    assert values["node_timex_offset_seconds"] == 1500 / 1e6


def test_snippet_has_no_single_quote_and_runs() -> None:
    assert "'" not in PYTHON
    run = subprocess.run(["sh", "-c", SNIPPET], capture_output=True, text=True, timeout=30)
    if run.stdout.strip() == "no python3":
        pytest.skip("no python3 on this machine")
    assert parse_timex(run.stdout)["tick"] > 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("no python3\n", "python3 not available"),
        ("errno 1\n", "errno 1"),
        ("state 5\noffset x\n", "unexpected line"),
        ("state 5\n", "missing fields"),
        ("", "missing fields"),
        ("Traceback (most recent call last):\n", "unexpected line"),
    ],
)
def test_garbage_is_a_parse_error(text: str, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        collect(text)
