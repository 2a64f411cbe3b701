"""udp_queues: bytes queued in UDP sockets, summed over /proc/net/udp and /proc/net/udp6.

    node_udp_queues{ip="v4",queue="rx"} 832
    node_udp_queues{ip="v6",queue="tx"} 0

A file is absent when its IP version is disabled: no samples for that version.
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

FILES = {"v4": "/proc/net/udp", "v6": "/proc/net/udp6"}
QUEUES = gauge(
    "node_udp_queues",
    "Number of allocated memory in the kernel for UDP datagrams in bytes.",
    "ip",
    "queue",
)
# the columns procfs checks: "sl:", "addr:port" twice, state, "tx:rx" queues, uid (8th)
_SL = re.compile(r"^[0-9]+:$")
_ADDRESS = re.compile(r"^[0-9A-Fa-f]+:[0-9A-Fa-f]+$")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_UINT = re.compile(r"^[0-9]+$")


def parse_udp(text: str, path: str) -> tuple[int, int]:
    """(tx_queue, rx_queue) summed over the sockets of a /proc/net/udp{,6} table."""
    tx = rx = 0
    for line in text.splitlines()[1:]:
        f = line.split()
        if not f:
            continue
        if len(f) < 8:
            raise ParseError(path, f"fewer than 8 columns: {line[:80]!r}")
        queues = f[4].split(":")
        valid = (
            _SL.match(f[0])
            and _ADDRESS.match(f[1])
            and _ADDRESS.match(f[2])
            and _HEX.match(f[3])
            and len(queues) == 2
            and all(_HEX.match(q) for q in queues)
            and _UINT.match(f[7])
        )
        if not valid:
            raise ParseError(path, f"malformed socket line: {line[:80]!r}")
        tx += int(queues[0], 16)
        rx += int(queues[1], 16)
    return tx, rx


class UdpQueuesCollector(Collector):
    name = "udp_queues"
    specs = (QUEUES,)

    def files(self, opts: Options) -> tuple[str, ...]:
        return tuple(FILES.values())

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for ip, path in FILES.items():
            text = snap.file(path)
            if text is None:
                continue
            tx, rx = parse_udp(text, path)
            out.add(QUEUES, tx, ip, "tx")
            out.add(QUEUES, rx, ip, "rx")


COLLECTORS = [UdpQueuesCollector]
