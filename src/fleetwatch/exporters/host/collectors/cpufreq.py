"""cpufreq: /sys/devices/system/cpu/cpu<N>/cpufreq/ (kHz, exposed in Hz).

    node_cpu_scaling_frequency_hertz{cpu="0"} 1.219917e+09
    node_cpu_frequency_max_hertz{cpu="0"} 3.6e+09

Virtual machines usually have no cpufreq directory: nothing is emitted, successfully.
``cpuinfo_cur_freq`` is readable by root only, so its family needs a root login.
"""

from __future__ import annotations

from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes, go_int, sysfs_value
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_CPU = "/sys/devices/system/cpu"
ATTRIBUTES = {
    "cpufreq/cpuinfo_cur_freq": gauge(
        "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz.", "cpu"
    ),
    "cpufreq/cpuinfo_max_freq": gauge(
        "node_cpu_frequency_max_hertz", "Maximum cpu thread frequency in hertz.", "cpu"
    ),
    "cpufreq/cpuinfo_min_freq": gauge(
        "node_cpu_frequency_min_hertz", "Minimum cpu thread frequency in hertz.", "cpu"
    ),
    "cpufreq/scaling_cur_freq": gauge(
        "node_cpu_scaling_frequency_hertz", "Current scaled CPU thread frequency in hertz.", "cpu"
    ),
    "cpufreq/scaling_max_freq": gauge(
        "node_cpu_scaling_frequency_max_hertz",
        "Maximum scaled CPU thread frequency in hertz.",
        "cpu",
    ),
    "cpufreq/scaling_min_freq": gauge(
        "node_cpu_scaling_frequency_min_hertz",
        "Minimum scaled CPU thread frequency in hertz.",
        "cpu",
    ),
}


def parse_cpufreq(entries: dict[str, dict[str, str]]) -> dict[str, dict[str, int]]:
    """``{cpu number: {attribute: kHz}}`` of the attributes that could be read."""
    out: dict[str, dict[str, int]] = {}
    for entry, attrs in entries.items():
        cpu = entry.removeprefix("cpu")
        values = {}
        for attr, text in attrs.items():
            value = sysfs_value(text)
            if value is not None:
                values[attr] = go_int(value, f"{SYS_CPU}/{entry}/{attr}")
        out[cpu] = values
    return out


class CpufreqCollector(Collector):
    name = "cpufreq"
    specs = tuple(ATTRIBUTES.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return tuple(f"{SYS_CPU}/cpu[0-9]*/{attr}" for attr in ATTRIBUTES)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        entries = attributes(snap, SYS_CPU, ATTRIBUTES, "cpu[0-9]*")
        for cpu, values in parse_cpufreq(entries).items():
            for attr, khz in values.items():
                out.add(ATTRIBUTES[attr], float(khz) * 1000.0, cpu)


COLLECTORS = [CpufreqCollector]
