import subprocess

import pytest

from fixture_paths import FIXTURES
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
    if run.stdout.strip() == "no perl or python3":
        pytest.skip("no perl or python3 on this machine")
    assert parse_timex(run.stdout)["tick"] > 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("no perl or python3\n", "neither perl nor python3"),
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


def test_perl_and_python_read_the_same_struct() -> None:
    """The perl syscall() path decodes struct timex exactly as the ctypes path does."""
    import platform
    import shutil

    if platform.machine() not in ("x86_64", "aarch64") or not shutil.which("perl"):
        pytest.skip("perl path needs perl on x86_64 / aarch64")
    python = shutil.which("python3", path="/usr/bin") or "python3"
    via_perl = subprocess.run(
        ["sh", "-c", f"FW_ARCH={platform.machine()}\n{SNIPPET}"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    via_python = subprocess.run(
        [python, "-I", "-S", "-c", PYTHON], capture_output=True, text=True, timeout=30
    ).stdout
    a, b = parse_timex(via_perl), parse_timex(via_python)
    for field in ("time_sec", "time_usec"):  # read a few ms apart
        a.pop(field), b.pop(field)
    assert a == b
