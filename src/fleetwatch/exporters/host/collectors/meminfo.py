"""meminfo: every field of /proc/meminfo, named as node_exporter names them.

    node_memory_MemTotal_bytes 2.7965870848e+10
    node_memory_Active_anon_bytes 1.548288e+06
    node_memory_HugePages_Total 0

``Active(anon)`` becomes ``Active_anon``; a ``kB`` value is multiplied by 1024 and gets
``_bytes``; a value without unit (the HugePages counts) keeps its bare name.
"""

from __future__ import annotations

import functools
import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/meminfo"
PREFIX = "node_memory_"
# Fields of a current x86_64 kernel, declared up front for the catalog; other fields a kernel
# has are still exposed, with a spec made on the fly.
KNOWN_FIELDS = [
    "Active_anon_bytes",
    "Active_bytes",
    "Active_file_bytes",
    "AnonHugePages_bytes",
    "AnonPages_bytes",
    "Balloon_bytes",
    "Bounce_bytes",
    "Buffers_bytes",
    "Cached_bytes",
    "CommitLimit_bytes",
    "Committed_AS_bytes",
    "DirectMap1G_bytes",
    "DirectMap2M_bytes",
    "DirectMap4k_bytes",
    "Dirty_bytes",
    "FileHugePages_bytes",
    "FilePmdMapped_bytes",
    "HardwareCorrupted_bytes",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
    "HugePages_Total",
    "Hugepagesize_bytes",
    "Hugetlb_bytes",
    "Inactive_anon_bytes",
    "Inactive_bytes",
    "Inactive_file_bytes",
    "KReclaimable_bytes",
    "KernelStack_bytes",
    "Mapped_bytes",
    "MemAvailable_bytes",
    "MemFree_bytes",
    "MemTotal_bytes",
    "Mlocked_bytes",
    "NFS_Unstable_bytes",
    "PageTables_bytes",
    "Percpu_bytes",
    "SReclaimable_bytes",
    "SUnreclaim_bytes",
    "SecPageTables_bytes",
    "ShmemHugePages_bytes",
    "ShmemPmdMapped_bytes",
    "Shmem_bytes",
    "Slab_bytes",
    "SwapCached_bytes",
    "SwapFree_bytes",
    "SwapTotal_bytes",
    "Unevictable_bytes",
    "VmallocChunk_bytes",
    "VmallocTotal_bytes",
    "VmallocUsed_bytes",
    "WritebackTmp_bytes",
    "Writeback_bytes",
    "Zswap_bytes",
    "Zswapped_bytes",
]

_PAREN = re.compile(r"\((.*)\)")
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_NUMBER = re.compile(r"^[0-9]+$")


@functools.lru_cache(maxsize=4096)
def spec_for(key: str) -> Spec:
    """The family of one field; node_exporter types a field ending in ``_total`` a counter."""
    make = counter if key.endswith("_total") else gauge
    return make(PREFIX + key, f"Memory information field {key}.")


SPECS = tuple(spec_for(k) for k in KNOWN_FIELDS)
_BY_KEY = {k: s for k, s in zip(KNOWN_FIELDS, SPECS, strict=True)}


def parse_meminfo(text: str) -> dict[str, float]:
    """Field name (node_exporter's form, e.g. ``Active_anon_bytes``) -> value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (2, 3) or not parts[0].endswith(":"):
            raise ParseError(PATH, f"invalid line: {line[:80]!r}")
        if not _NUMBER.match(parts[1]):
            raise ParseError(PATH, f"invalid value in line: {line[:80]!r}")
        key = _PAREN.sub(r"_\1", parts[0][:-1])
        if not _KEY.match(key):
            raise ParseError(PATH, f"invalid field name: {parts[0][:40]!r}")
        value = float(int(parts[1]))
        # node_exporter presumes the unit of a three-column line is kB
        if len(parts) == 3:
            value *= 1024
            key += "_bytes"
        out[key] = value
    if not out:
        raise ParseError(PATH, "no fields")
    return out


class MeminfoCollector(Collector):
    name = "meminfo"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        for key, value in parse_meminfo(text).items():
            out.add(_BY_KEY.get(key) or spec_for(key), value)


COLLECTORS = [MeminfoCollector]
