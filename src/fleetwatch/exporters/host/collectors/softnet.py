"""softnet: per-CPU packet processing statistics of /proc/net/softnet_stat (hex columns).

    node_softnet_processed_total{cpu="1"} 2388
    node_softnet_dropped_total{cpu="1"} 0
    node_softnet_times_squeezed_total{cpu="1"} 0

As in node_exporter 1.5, the ``cpu`` label is the line's index (CPUs that are offline have no
line, so on such hosts it is not the CPU number).
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/net/softnet_stat"
PROCESSED = counter("node_softnet_processed_total", "Number of processed packets", "cpu")
DROPPED = counter("node_softnet_dropped_total", "Number of dropped packets", "cpu")
TIMES_SQUEEZED = counter(
    "node_softnet_times_squeezed_total",
    "Number of times processing packets ran out of quota",
    "cpu",
)
# procfs refuses lines of fewer columns (kernels before 2.6.x had 9)
MIN_COLUMNS = 9
_HEX32 = re.compile(r"^[0-9a-fA-F]{1,8}$")


def parse_softnet(text: str) -> list[tuple[int, int, int]]:
    """(processed, dropped, time_squeezed) per line, in line order."""
    out: list[tuple[int, int, int]] = []
    for line in text.splitlines():
        columns = line.split()
        if not columns:
            continue
        if len(columns) < MIN_COLUMNS:
            raise ParseError(PATH, f"{len(columns)} columns, expected at least {MIN_COLUMNS}")
        if not all(_HEX32.match(c) for c in columns[:3]):
            raise ParseError(PATH, f"not a 32-bit hex number in {line[:80]!r}")
        out.append((int(columns[0], 16), int(columns[1], 16), int(columns[2], 16)))
    return out


class SoftnetCollector(Collector):
    name = "softnet"
    specs = (PROCESSED, DROPPED, TIMES_SQUEEZED)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        for cpu, (processed, dropped, squeezed) in enumerate(parse_softnet(text)):
            out.add(PROCESSED, processed, str(cpu))
            out.add(DROPPED, dropped, str(cpu))
            out.add(TIMES_SQUEEZED, squeezed, str(cpu))


COLLECTORS = [SoftnetCollector]
