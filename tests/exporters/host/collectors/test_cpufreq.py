import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.cpufreq import CpufreqCollector
from fleetwatch.exporters.host.snapshot import Snapshot


def cpu_files() -> dict[str, str]:
    base = FIXTURES / "sys/devices/system/cpu"
    return {
        f"/sys/devices/system/cpu/{p.relative_to(base)}": p.read_text()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def collect(files: dict[str, str]) -> Families:
    out = Families()
    CpufreqCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(cpu_files())
    cpu0, cpu1 = {"cpu": "0"}, {"cpu": "1"}
    assert out.get("node_cpu_frequency_hertz", cpu0) == 1.219e09
    assert out.get("node_cpu_frequency_hertz", cpu1) is None  # root-only file absent
    assert out.get("node_cpu_frequency_max_hertz", cpu1) == 3.6e09
    assert out.get("node_cpu_frequency_min_hertz", cpu0) == 8e08
    assert out.get("node_cpu_scaling_frequency_hertz", cpu0) == 1.219917e09
    assert out.get("node_cpu_scaling_frequency_max_hertz", cpu0) == 3.6e09
    assert out.get("node_cpu_scaling_frequency_min_hertz", cpu1) == 8e08


def test_virtual_machine_without_cpufreq() -> None:
    assert len(collect({})) == 0


def test_garbage_is_a_parse_error() -> None:
    bad = cpu_files() | {"/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq": "fast\n"}
    with pytest.raises(ParseError, match="scaling_cur_freq"):
        collect(bad)
