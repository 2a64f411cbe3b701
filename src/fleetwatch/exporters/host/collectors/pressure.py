"""pressure: pressure stall information of /proc/pressure/{cpu,io,memory} (Linux >= 4.20).

    node_pressure_cpu_waiting_seconds_total 4.547174
    node_pressure_io_stalled_seconds_total 2.0898649999999996
    node_pressure_memory_waiting_seconds_total 0

``some`` totals become ``*_waiting_seconds_total``, ``full`` totals ``*_stalled_seconds_total``
(not for cpu, as in node_exporter 1.5).  A kernel without PSI has no such files: no samples.
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

DIR = "/proc/pressure"
CPU_WAITING = counter(
    "node_pressure_cpu_waiting_seconds_total",
    "Total time in seconds that processes have waited for CPU time",
)
IO_WAITING = counter(
    "node_pressure_io_waiting_seconds_total",
    "Total time in seconds that processes have waited due to IO congestion",
)
IO_STALLED = counter(
    "node_pressure_io_stalled_seconds_total",
    "Total time in seconds no process could make progress due to IO congestion",
)
MEMORY_WAITING = counter(
    "node_pressure_memory_waiting_seconds_total",
    "Total time in seconds that processes have waited for memory",
)
MEMORY_STALLED = counter(
    "node_pressure_memory_stalled_seconds_total",
    "Total time in seconds no process could make progress due to memory congestion",
)
# resource -> (family of the "some" line, family of the "full" line or None)
RESOURCES: dict[str, tuple[Spec, Spec | None]] = {
    "cpu": (CPU_WAITING, None),
    "io": (IO_WAITING, IO_STALLED),
    "memory": (MEMORY_WAITING, MEMORY_STALLED),
}

_LINE = re.compile(r"^(some|full) avg10=[0-9.]+ avg60=[0-9.]+ avg300=[0-9.]+ total=([0-9]+)$")


def parse_psi(text: str, path: str) -> dict[str, int]:
    """``some`` / ``full`` -> total stall time in microseconds; other lines are ignored."""
    totals: dict[str, int] = {}
    for line in text.splitlines():
        kind = line.split(" ", 1)[0]
        if kind not in ("some", "full"):
            continue
        m = _LINE.match(line.strip())
        if m is None:
            raise ParseError(path, f"malformed line: {line[:80]!r}")
        totals[kind] = int(m.group(2))
    return totals


class PressureCollector(Collector):
    name = "pressure"
    specs = (CPU_WAITING, IO_WAITING, IO_STALLED, MEMORY_WAITING, MEMORY_STALLED)

    def files(self, opts: Options) -> tuple[str, ...]:
        return tuple(f"{DIR}/{r}" for r in RESOURCES)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for resource, (some_spec, full_spec) in RESOURCES.items():
            path = f"{DIR}/{resource}"
            text = snap.file(path)
            # absent without CONFIG_PSI; empty when booted with psi=0 (reading fails)
            if not text:
                continue
            totals = parse_psi(text, path)
            for kind, spec in (("some", some_spec), ("full", full_spec)):
                if spec is None:
                    continue
                if kind not in totals:
                    raise ParseError(path, f"no {kind!r} line")
                # two divisions, as node_exporter does, for the same float result
                out.add(spec, totals[kind] / 1000.0 / 1000.0)


COLLECTORS = [PressureCollector]
