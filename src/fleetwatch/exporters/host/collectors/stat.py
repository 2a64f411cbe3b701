"""stat: kernel counters of /proc/stat.

node_boot_time_seconds 1.795331219e+09
node_context_switches_total 320724
node_procs_running 2
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/stat"
# /proc/stat key -> family; "intr" holds the total first, per-IRQ counts after it
FIELDS: dict[str, Spec] = {
    "intr": counter("node_intr_total", "Total number of interrupts serviced."),
    "ctxt": counter("node_context_switches_total", "Total number of context switches."),
    "processes": counter("node_forks_total", "Total number of forks."),
    "btime": gauge("node_boot_time_seconds", "Node boot time, in unixtime."),
    "procs_running": gauge("node_procs_running", "Number of processes in runnable state."),
    "procs_blocked": gauge(
        "node_procs_blocked", "Number of processes blocked waiting for I/O to complete."
    ),
}
_NUMBER = re.compile(r"^[0-9]+$")


def parse_stat(text: str) -> dict[str, int]:
    """The values of the ``intr``, ``ctxt``, ``btime``, ``processes`` and ``procs_*`` lines."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(None, 2)  # the first two: the intr line has hundreds more
        if len(fields) < 2 or fields[0] not in FIELDS:
            continue
        if not _NUMBER.match(fields[1]):
            raise ParseError(PATH, f"not a number in {fields[0]!r} line: {fields[1][:40]!r}")
        values[fields[0]] = int(fields[1])
    missing = [k for k in FIELDS if k not in values]
    if missing:
        raise ParseError(PATH, f"missing lines: {', '.join(missing)}")
    return values


class StatCollector(Collector):
    name = "stat"
    specs = tuple(FIELDS.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        for key, value in parse_stat(text).items():
            out.add(FIELDS[key], value)


COLLECTORS = [StatCollector]
