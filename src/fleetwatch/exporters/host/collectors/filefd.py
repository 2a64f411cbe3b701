"""filefd: /proc/sys/fs/file-nr.

node_filefd_allocated 350
node_filefd_maximum 2.466165e+06
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/sys/fs/file-nr"
ALLOCATED = gauge("node_filefd_allocated", "File descriptor statistics: allocated.")
MAXIMUM = gauge("node_filefd_maximum", "File descriptor statistics: maximum.")
_NUMBER = re.compile(r"^[0-9]+$")


def parse_file_nr(text: str) -> tuple[int, int]:
    """(allocated, maximum); the middle column (free handles) is always 0 since Linux 2.6."""
    fields = text.split()
    if len(fields) < 3:
        raise ParseError(PATH, f"expected 3 fields, got {len(fields)}")
    if not (_NUMBER.match(fields[0]) and _NUMBER.match(fields[2])):
        raise ParseError(PATH, f"not a number in {text.strip()[:80]!r}")
    return int(fields[0]), int(fields[2])


class FilefdCollector(Collector):
    name = "filefd"
    specs = (ALLOCATED, MAXIMUM)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        allocated, maximum = parse_file_nr(text)
        out.add(ALLOCATED, allocated)
        out.add(MAXIMUM, maximum)


COLLECTORS = [FilefdCollector]
