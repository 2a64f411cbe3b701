"""entropy: the kernel's random pool, /proc/sys/kernel/random.

node_entropy_available_bits 256
node_entropy_pool_size_bits 256
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

AVAILABLE_PATH = "/proc/sys/kernel/random/entropy_avail"
POOL_SIZE_PATH = "/proc/sys/kernel/random/poolsize"
AVAILABLE = gauge("node_entropy_available_bits", "Bits of available entropy.")
POOL_SIZE = gauge("node_entropy_pool_size_bits", "Bits of entropy pool.")
_UINT = re.compile(r"^[0-9]+$")


def parse_bits(text: str, path: str) -> int:
    """The one unsigned number of an entropy file."""
    value = text.strip()
    if not _UINT.match(value):
        raise ParseError(path, f"not an unsigned integer: {value[:40]!r}")
    return int(value)


class EntropyCollector(Collector):
    name = "entropy"
    specs = (AVAILABLE, POOL_SIZE)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (AVAILABLE_PATH, POOL_SIZE_PATH)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for path, spec in ((AVAILABLE_PATH, AVAILABLE), (POOL_SIZE_PATH, POOL_SIZE)):
            text = snap.require(path)
            out.add(spec, parse_bits(text, path))


COLLECTORS = [EntropyCollector]
