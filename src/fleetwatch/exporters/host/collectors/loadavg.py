"""loadavg: /proc/loadavg.

node_load1 0.21
node_load5 0.35
node_load15 0.38
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/loadavg"
LOAD = (
    gauge("node_load1", "1m load average."),
    gauge("node_load5", "5m load average."),
    gauge("node_load15", "15m load average."),
)


def parse_loadavg(text: str) -> tuple[float, float, float]:
    """The three load averages of /proc/loadavg."""
    fields = text.split()
    if len(fields) < 3:
        raise ParseError(PATH, f"expected at least 3 fields, got {len(fields)}")
    try:
        return float(fields[0]), float(fields[1]), float(fields[2])
    except ValueError as exc:
        raise ParseError(PATH, f"not a number: {exc}") from None


class LoadavgCollector(Collector):
    name = "loadavg"
    specs = LOAD

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        for spec, value in zip(LOAD, parse_loadavg(text), strict=True):
            out.add(spec, value)


COLLECTORS = [LoadavgCollector]
