import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.cpu import CpuCollector, parse_cpu_list, parse_cpu_times
from fleetwatch.exporters.host.snapshot import Snapshot

STAT = (FIXTURES / "stat").read_text()


def collect(files: dict[str, str]) -> Families:
    out = Families()
    CpuCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_parse_real_stat_per_cpu_only() -> None:
    times = parse_cpu_times(STAT)
    assert sorted(times) == ["0", "1"]
    # cpu0 1220 0 744 207287 14 0 18 3 0 0
    assert times["0"] == (12.2, 0.0, 7.44, 2072.87, 0.14, 0.0, 0.18, 0.03, 0.0, 0.0)


def test_collect_modes_and_guest() -> None:
    out = collect({"/proc/stat": STAT})
    assert out.get("node_cpu_seconds_total", {"cpu": "0", "mode": "user"}) == 1220 / 100
    assert out.get("node_cpu_seconds_total", {"cpu": "1", "mode": "iowait"}) == 448 / 100
    assert out.get("node_cpu_seconds_total", {"cpu": "1", "mode": "steal"}) == 6 / 100
    assert out.get("node_cpu_guest_seconds_total", {"cpu": "1", "mode": "nice"}) == 0.0
    assert len(out.samples("node_cpu_seconds_total")) == 2 * 8
    assert len(out.samples("node_cpu_guest_seconds_total")) == 2 * 2
    # the aggregate "cpu" line is not a CPU
    assert out.get("node_cpu_seconds_total", {"cpu": "", "mode": "user"}) is None
    assert "node_cpu_isolated" not in out.names()


def test_guest_columns_and_old_kernel_short_lines() -> None:
    # edge case: a made-up line with guest time, and a short 2.6.0-style line
    text = "cpu  1 2 3 4\ncpu0 100 200 300 400 5 6 7 8 900 1000\ncpu1 10 20 30 40\n"
    out = collect({"/proc/stat": text})
    assert out.get("node_cpu_guest_seconds_total", {"cpu": "0", "mode": "user"}) == 9.0
    assert out.get("node_cpu_guest_seconds_total", {"cpu": "0", "mode": "nice"}) == 10.0
    assert out.get("node_cpu_seconds_total", {"cpu": "1", "mode": "idle"}) == 0.4
    assert out.get("node_cpu_seconds_total", {"cpu": "1", "mode": "steal"}) == 0.0


def test_isolated_and_throttles() -> None:
    # edge case: sysfs files of a made-up two-core, one-package Intel host
    base = "/sys/devices/system/cpu"
    files = {
        "/proc/stat": STAT,
        f"{base}/isolated": "1,3-4\n",
        f"{base}/cpu0/topology/physical_package_id": "0\n",
        f"{base}/cpu0/topology/core_id": "0\n",
        f"{base}/cpu0/thermal_throttle/core_throttle_count": "7\n",
        f"{base}/cpu0/thermal_throttle/package_throttle_count": "11\n",
        f"{base}/cpu1/topology/physical_package_id": "0\n",
        f"{base}/cpu1/topology/core_id": "1\n",
        f"{base}/cpu1/thermal_throttle/core_throttle_count": "2\n",
        f"{base}/cpu1/thermal_throttle/package_throttle_count": "99\n",
    }
    out = collect(files)
    assert {s[0]["cpu"] for s in out.samples("node_cpu_isolated")} == {"1", "3", "4"}
    assert out.get("node_cpu_core_throttles_total", {"package": "0", "core": "1"}) == 2
    # the first CPU of a package gives the package count
    assert out.get("node_cpu_package_throttles_total", {"package": "0"}) == 11


def test_empty_isolated_file_means_none() -> None:
    out = collect({"/proc/stat": STAT, "/sys/devices/system/cpu/isolated": "\n"})
    assert "node_cpu_isolated" not in out.names()
    assert parse_cpu_list("") == []


def test_missing_stat_is_an_error() -> None:
    with pytest.raises(ParseError, match="/proc/stat: not readable"):
        collect({})


@pytest.mark.parametrize(
    "text",
    ["", "intr 1 2 3\n", "cpu0 1 2 x 4\n", "cpu0 1 2\n", "\x00\xff\x01garbage", "cpu0 -1 2 3 4\n"],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/stat"):
        parse_cpu_times(text)


@pytest.mark.parametrize("text", ["a-b", "1-", "0-70000", "1,x"])
def test_bad_isolated_list(text: str) -> None:
    with pytest.raises(ParseError, match="isolated"):
        parse_cpu_list(text)
