"""cpu: per-CPU times from /proc/stat; thermal throttles and isolated CPUs from /sys.

    node_cpu_seconds_total{cpu="0",mode="user"} 9.57
    node_cpu_guest_seconds_total{cpu="0",mode="nice"} 0
    node_cpu_package_throttles_total{package="0"} 3

node_cpu_info (and the flag/bug info families) are off by default in node_exporter 1.5
(``--collector.cpu.info``), so they are not produced here.
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import uints
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

STAT = "/proc/stat"
ISOLATED_PATH = "/sys/devices/system/cpu/isolated"
_CPU_DIRS = "/sys/devices/system/cpu/cpu[0-9]*"
_TOPOLOGY = ("topology/physical_package_id", "topology/core_id")
_THROTTLE = ("thermal_throttle/core_throttle_count", "thermal_throttle/package_throttle_count")
# procfs divides /proc/stat ticks by a hard-coded USER_HZ, as the kernel's ABI fixes it at 100
USER_HZ = 100.0
MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")

SECONDS = counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "cpu", "mode")
GUEST = counter(
    "node_cpu_guest_seconds_total",
    "Seconds the CPUs spent in guests (VMs) for each mode.",
    "cpu",
    "mode",
)
CORE_THROTTLES = counter(
    "node_cpu_core_throttles_total",
    "Number of times this CPU core has been throttled.",
    "package",
    "core",
)
PACKAGE_THROTTLES = counter(
    "node_cpu_package_throttles_total",
    "Number of times this CPU package has been throttled.",
    "package",
)
ISOLATED = gauge(
    "node_cpu_isolated",
    "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
    "cpu",
)

_NUMBER = re.compile(r"^[0-9]+$")
_CPU_LINE = re.compile(r"^cpu([0-9]+)$")


def parse_cpu_times(text: str) -> dict[str, tuple[float, ...]]:
    """Seconds per CPU number: 10 values, user .. guest_nice (absent columns are 0)."""
    out: dict[str, tuple[float, ...]] = {}
    for line in text.splitlines():
        first = line.split(None, 1)  # the intr line has hundreds of fields: split it no further
        if not first:
            continue
        m = _CPU_LINE.match(first[0])
        if m is None:
            continue
        values = line.split()[1:11]
        # user, nice, system and idle exist on every kernel; later columns came with 2.6.x
        numbers = uints(values) if len(values) >= 4 else None
        if numbers is None:
            if len(values) < 4 or not all(_NUMBER.match(v) for v in values):
                raise ParseError(STAT, f"bad cpu line: {line[:80]!r}")
            numbers = [int(v) for v in values]
        ticks = [n / USER_HZ for n in numbers]
        ticks += [0.0] * (10 - len(ticks))
        out[str(int(m.group(1)))] = tuple(ticks)
    if not out:
        raise ParseError(STAT, "no per-CPU lines")
    return out


def parse_cpu_list(text: str) -> list[int]:
    """CPU numbers of a kernel cpu list such as ``0-2,5`` (empty text: no CPU)."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not _NUMBER.match(lo) or (sep and not _NUMBER.match(hi)):
            raise ParseError(ISOLATED_PATH, f"bad cpu range {part!r}")
        first, last = int(lo), int(hi if sep else lo)
        # procfs keeps CPU numbers in a uint16
        if last > 0xFFFF:
            raise ParseError(ISOLATED_PATH, f"cpu number out of range in {part!r}")
        cpus.extend(range(first, last + 1))
    return cpus


def _uint(text: str | None) -> int | None:
    """node_exporter's readUintFromFile, where a failure only skips the value."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if _NUMBER.match(text) else None


def _throttles(snap: Snapshot, out: Families) -> None:
    packages: dict[int, int] = {}
    cores: dict[int, dict[int, int]] = {}
    # node_exporter walks filepath.Glob's lexical order and keeps the first reading per id
    for path, _ in snap.glob(f"{_CPU_DIRS}/{_TOPOLOGY[0]}"):
        cpu_dir = path[: -len(_TOPOLOGY[0]) - 1]
        package = _uint(snap.file(f"{cpu_dir}/{_TOPOLOGY[0]}"))
        core = _uint(snap.file(f"{cpu_dir}/{_TOPOLOGY[1]}"))
        if package is None or core is None:
            continue
        per_core = cores.setdefault(package, {})
        if core not in per_core:
            count = _uint(snap.file(f"{cpu_dir}/{_THROTTLE[0]}"))
            if count is not None:
                per_core[core] = count
        if package not in packages:
            count = _uint(snap.file(f"{cpu_dir}/{_THROTTLE[1]}"))
            if count is not None:
                packages[package] = count
    for package, count in packages.items():
        out.add(PACKAGE_THROTTLES, count, str(package))
    for package, per_core in cores.items():
        for core, count in per_core.items():
            out.add(CORE_THROTTLES, count, str(package), str(core))


class CpuCollector(Collector):
    name = "cpu"
    specs = (SECONDS, GUEST, CORE_THROTTLES, PACKAGE_THROTTLES, ISOLATED)

    def files(self, opts: Options) -> tuple[str, ...]:
        per_cpu = tuple(f"{_CPU_DIRS}/{p}" for p in (*_TOPOLOGY, *_THROTTLE))
        return (STAT, ISOLATED_PATH, *per_cpu)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(STAT)
        for cpu, times in parse_cpu_times(text).items():
            for mode, value in zip(MODES, times, strict=False):
                out.add(SECONDS, value, cpu, mode)
            # guest time is also counted in user and nice; node_exporter exposes it separately
            out.add(GUEST, times[8], cpu, "user")
            out.add(GUEST, times[9], cpu, "nice")
        isolated = snap.file(ISOLATED_PATH)
        if isolated is not None:
            for cpu_num in parse_cpu_list(isolated):
                out.add(ISOLATED, 1, str(cpu_num))
        _throttles(snap, out)


COLLECTORS = [CpuCollector]
