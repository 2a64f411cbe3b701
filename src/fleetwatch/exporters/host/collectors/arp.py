"""arp: neighbour entries of /proc/net/arp, counted by device.

node_arp_entries{device="eth0"} 1
"""

from __future__ import annotations

from collections import Counter

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/net/arp"
ENTRIES = gauge("node_arp_entries", "ARP entries by device", "device")


def parse_arp(text: str) -> dict[str, int]:
    """Device -> number of entries (incomplete ones included, as node_exporter counts them)."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        columns = line.split()
        if not columns:
            continue
        if len(columns) < 6:
            raise ParseError(PATH, f"unexpected ARP table format: {line[:80]!r}")
        if columns[0] != "IP":
            counts[columns[-1]] += 1
    return dict(counts)


class ArpCollector(Collector):
    name = "arp"
    specs = (ENTRIES,)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        for device, count in parse_arp(text).items():
            out.add(ENTRIES, count, device)


COLLECTORS = [ArpCollector]
