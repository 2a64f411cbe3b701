"""conntrack: netfilter connection tracking table size and per-CPU statistics.

    node_nf_conntrack_entries 0
    node_nf_conntrack_entries_limit 262144
    node_nf_conntrack_stat_drop 0

Without the nf_conntrack module the files are absent: no samples.  The ``_stat_*`` families
are the sums over CPUs of /proc/net/stat/nf_conntrack columns (gauges, as node_exporter has them).
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

COUNT = "/proc/sys/net/netfilter/nf_conntrack_count"
MAX = "/proc/sys/net/netfilter/nf_conntrack_max"
STAT = "/proc/net/stat/nf_conntrack"

ENTRIES = gauge(
    "node_nf_conntrack_entries",
    "Number of currently allocated flow entries for connection tracking.",
)
LIMIT = gauge("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.")


def _stat(name: str, help: str) -> Spec:
    return gauge(f"node_nf_conntrack_stat_{name}", help)


# column index in /proc/net/stat/nf_conntrack (positional, as procfs reads it) -> family
STAT_COLUMNS: dict[int, Spec] = {
    2: _stat("found", "Number of searched entries which were successful."),
    4: _stat("invalid", "Number of packets seen which can not be tracked."),
    5: _stat("ignore", "Number of packets seen which are already connected to a conntrack entry."),
    8: _stat("insert", "Number of entries inserted into the list."),
    9: _stat(
        "insert_failed", "Number of entries for which list insertion was attempted but failed."
    ),
    10: _stat("drop", "Number of packets dropped due to conntrack failure."),
    11: _stat(
        "early_drop",
        "Number of dropped conntrack entries to make room for new ones, "
        "if maximum table size was reached.",
    ),
    # absent before Linux 2.6.35 (16 columns): counted as 0
    16: _stat(
        "search_restart",
        "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
    ),
}

_UINT = re.compile(r"^[0-9]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def parse_uint(text: str, path: str) -> int:
    value = text.strip()
    if not _UINT.match(value):
        raise ParseError(path, f"not an unsigned integer: {value[:40]!r}")
    return int(value)


def parse_conntrack_stat(text: str) -> dict[int, int]:
    """Column index -> sum over the per-CPU lines (after the header) of that hex column."""
    sums = dict.fromkeys(STAT_COLUMNS, 0)
    for line in text.splitlines()[1:]:
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in (16, 17) or not all(_HEX.match(f) for f in fields):
            raise ParseError(STAT, f"invalid line: {line[:80]!r}")
        for col in sums:
            if col < len(fields):
                sums[col] += int(fields[col], 16)
    return sums


class ConntrackCollector(Collector):
    name = "conntrack"
    specs = (ENTRIES, LIMIT, *STAT_COLUMNS.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return (COUNT, MAX, STAT)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        # node_exporter stops at the first absent file, keeping what it already emitted
        count = snap.file(COUNT)
        if count is None:
            return
        out.add(ENTRIES, parse_uint(count, COUNT))
        limit = snap.file(MAX)
        if limit is None:
            return
        out.add(LIMIT, parse_uint(limit, MAX))
        stat = snap.file(STAT)
        if stat is None:
            return
        for col, value in parse_conntrack_stat(stat).items():
            out.add(STAT_COLUMNS[col], value)


COLLECTORS = [ConntrackCollector]
