"""schedstat: per-CPU scheduler statistics of /proc/schedstat (CONFIG_SCHEDSTATS kernels).

    node_schedstat_running_seconds_total{cpu="0"} 2.0e+03
    node_schedstat_waiting_seconds_total{cpu="0"} 35.2
    node_schedstat_timeslices_total{cpu="0"} 1.2e+06

An absent file means no samples (node_exporter reports that as "no data").
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/schedstat"
RUNNING = counter(
    "node_schedstat_running_seconds_total",
    "Number of seconds CPU spent running a process.",
    "cpu",
)
WAITING = counter(
    "node_schedstat_waiting_seconds_total",
    "Number of seconds spent by processing waiting for this CPU.",
    "cpu",
)
TIMESLICES = counter(
    "node_schedstat_timeslices_total", "Number of timeslices executed by CPU.", "cpu"
)
NS_PER_SEC = 1e9
# "cpuN" then 9 numbers; the 7th to 9th are run time (ns), wait time (ns) and timeslices
_CPU = re.compile(r"^cpu([0-9]+)$")
_UINT = re.compile(r"^[0-9]+$")


def parse_schedstat(text: str) -> list[tuple[str, int, int, int]]:
    """(cpu, running ns, waiting ns, timeslices) of every ``cpuN`` line."""
    out: list[tuple[str, int, int, int]] = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or _CPU.match(fields[0]) is None:
            continue
        if len(fields) < 10 or not all(_UINT.match(f) for f in fields[1:10]):
            raise ParseError(PATH, f"malformed cpu line: {line[:80]!r}")
        out.append((fields[0][3:], int(fields[7]), int(fields[8]), int(fields[9])))
    if text.strip() and not out:
        raise ParseError(PATH, "no cpu lines")
    return out


class SchedstatCollector(Collector):
    name = "schedstat"
    specs = (RUNNING, WAITING, TIMESLICES)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.file(PATH)
        if text is None:
            raise NoData(PATH)
        for cpu, running, waiting, timeslices in parse_schedstat(text):
            out.add(RUNNING, running / NS_PER_SEC, cpu)
            out.add(WAITING, waiting / NS_PER_SEC, cpu)
            out.add(TIMESLICES, timeslices, cpu)


COLLECTORS = [SchedstatCollector]
