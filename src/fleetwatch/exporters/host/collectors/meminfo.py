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


# what the kernel prints: such a text takes the fast path (one regex scan, the per-name work
# cached); any other one the slow parse, with its error messages
_KERNEL_TEXT = re.compile(r"(?:[A-Za-z0-9_()]+: +[0-9]+(?: kB)?\n)+", re.ASCII)
_ROW = re.compile(r"([^:\n]+): +([0-9]+)( kB)?\n")


@functools.lru_cache(maxsize=256)
def _plan(shape: tuple[str, ...]) -> tuple[tuple[Spec, float], ...] | None:
    """(family, multiplier) per line of a text whose lines are ``shape`` (name + unit);
    None when a name is not a valid field (the slow parse then says which)."""
    out = []
    for entry in shape:
        kb = entry.endswith(" kB")
        key = _PAREN.sub(r"_\1", entry[:-3] if kb else entry)
        if not _KEY.match(key):
            return None
        key += "_bytes" if kb else ""
        out.append((_BY_KEY.get(key) or spec_for(key), 1024.0 if kb else 1.0))
    return tuple(out)


def select_meminfo(text: str) -> list[tuple[Spec, float]]:
    """``parse_meminfo`` as (family, value); a repeated field's last line wins."""
    if _KERNEL_TEXT.fullmatch(text):
        rows = _ROW.findall(text)
        plan = _plan(tuple([name + unit for name, _, unit in rows]))
        if plan is not None:
            pairs = zip(plan, rows, strict=True)
            return [(spec, float(int(row[1])) * k) for (spec, k), row in pairs]
    return [(_BY_KEY.get(k) or spec_for(k), v) for k, v in parse_meminfo(text).items()]


class MeminfoCollector(Collector):
    name = "meminfo"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for spec, value in select_meminfo(snap.require(PATH)):
            out.add(spec, value)


COLLECTORS = [MeminfoCollector]
