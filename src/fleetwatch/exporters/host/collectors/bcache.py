"""bcache: cache sets of /sys/fs/bcache/<uuid>/, their backing (bdev*) and cache (cache*) devices.

    node_bcache_cache_available_percent{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 100
    node_bcache_dirty_data_bytes{backing_device="bdev0",uuid="deaddd54-..."} 1.867776e+06

Values are bcache's "human" numbers (``1.8M``: its fraction is in 1/1024ths, read as procfs
does), each file read with its last byte (the newline) cut.  An absent attribute is 0, an absent
writeback_rate_debug fails the collector, as with procfs 0.8; an empty attribute is a parse error
(node_exporter 1.5 panics there).  priority_stats is not read (node_exporter 1.5's default).  No
bcache: nothing, successfully.
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_BCACHE = "/sys/fs/bcache"
_MULT = {"k": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60,
         "Z": 1 << 70, "Y": 1 << 80}  # fmt: skip
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_UINT64 = 1 << 64


def _g(name: str, help: str, *labels: str) -> Spec:
    return gauge(f"node_bcache_{name}", help, "uuid", *labels)


def _c(name: str, help: str, *labels: str) -> Spec:
    return counter(f"node_bcache_{name}", help, "uuid", *labels)


# (file under the set's directory, family, scale)
SET_VALUES: tuple[tuple[str, Spec, float], ...] = (
    ("average_key_size", _g("average_key_size_sectors",
                            "Average data per key in the btree (sectors)."), 1),
    ("btree_cache_size", _g("btree_cache_size_bytes",
                            "Amount of memory currently used by the btree cache."), 1),
    ("cache_available_percent", _g("cache_available_percent",
                                   "Percentage of cache device without dirty data, usable for "
                                   "writeback (may contain clean cached data)."), 1),
    ("congested", _g("congested", "Congestion."), 1),
    ("root_usage_percent", _g("root_usage_percent", "Percentage of the root btree node in use "
                              "(tree depth increases if too high)."), 1),
    ("tree_depth", _g("tree_depth", "Depth of the btree."), 1),
    ("internal/active_journal_entries", _g("active_journal_entries",
                                           "Number of journal entries that are newer than the "
                                           "index."), 1),
    ("internal/btree_nodes", _g("btree_nodes", "Total nodes in the btree."), 1),
    ("internal/btree_read_average_duration_us", _g("btree_read_average_duration_seconds",
                                                   "Average btree read duration."), 1e-9),
    ("internal/cache_read_races", _c("cache_read_races_total",
                                     "Counts instances where while data was being read from "
                                     "the cache, the bucket was reused and invalidated - i.e. "
                                     "where the pointer was stale after the read completed."), 1),
)  # fmt: skip
_PERIOD = ("bypassed", "cache_bypass_hits", "cache_bypass_misses", "cache_hits",
           "cache_miss_collisions", "cache_misses", "cache_readaheads")  # fmt: skip
_B = "backing_device"
# stats_total file -> family, per backing device
BDEV_TOTALS: dict[str, Spec] = {
    "bypassed": _c("bypassed_bytes_total",
                   "Amount of IO (both reads and writes) that has bypassed the cache.", _B),
    "cache_hits": _c("cache_hits_total", "Hits counted per individual IO as bcache sees them.", _B),
    "cache_misses": _c("cache_misses_total",
                       "Misses counted per individual IO as bcache sees them.", _B),
    "cache_bypass_hits": _c("cache_bypass_hits_total", "Hits for IO intended to skip the cache.",
                            _B),
    "cache_bypass_misses": _c("cache_bypass_misses_total",
                              "Misses for IO intended to skip the cache.", _B),
    "cache_miss_collisions": _c("cache_miss_collisions_total",
                                "Instances where data insertion from cache miss raced with "
                                "write (data already present).", _B),
    "cache_readaheads": _c("cache_readaheads_total", "Count of times readahead occurred.", _B),
}  # fmt: skip
DIRTY_DATA = _g("dirty_data_bytes", "Amount of dirty data for this backing device in the cache.",
                _B)  # fmt: skip
# writeback_rate_debug key -> family
WRITEBACK: dict[str, Spec] = {
    "target": _g("dirty_target_bytes",
                 "Current dirty data target threshold for this backing device in bytes.", _B),
    "rate": _g("writeback_rate", "Current writeback rate for this backing device in bytes.", _B),
    "proportional": _g("writeback_rate_proportional_term",
                       "Current result of proportional controller, part of writeback rate", _B),
    "integral": _g("writeback_rate_integral_term",
                   "Current result of integral controller, part of writeback rate", _B),
    "change": _g("writeback_change", "Last writeback rate change step for this backing device.",
                 _B),
}  # fmt: skip
_C = "cache_device"
CACHE_VALUES: dict[str, Spec] = {
    "io_errors": _g("io_errors",
                    "Number of errors that have occurred, decayed by io_error_halflife.", _C),
    "metadata_written": _c("metadata_written_bytes_total",
                           "Sum of all non data writes (btree writes and all other metadata).", _C),
    "written": _c("written_bytes_total", "Sum of all data that has been written to the cache.",
                  _C),
}  # fmt: skip


def _float(text: str, source: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise ParseError(source, f"not a number: {text[:40]!r}")
    return float(text)


def dehumanize(text: str, source: str) -> int:
    """bcache's bch_hprint output (``1.8M``, ``512``) as an integer, as procfs reads it."""
    if not text:
        raise ParseError(source, "empty value")
    if text[0] == "-":
        raise ParseError(source, f"negative value: {text[:40]!r}")
    if text[-1] > "9":
        mult = _MULT.get(text[-1], 0)
        whole, dot, frac = text[:-1].partition(".")
        value = _float(whole, source)
        if dot:  # "1." is an error too, as strconv.ParseFloat("")
            value += _float(frac.split(".")[0], source) / 10.24
        value *= mult
    else:
        value = _float(text, source)
    if not 0 <= value < _UINT64:
        raise ParseError(source, f"value out of range: {text[:40]!r}")
    return int(value)


def dehumanize_signed(text: str, source: str) -> int:
    if text.startswith("-"):
        return -dehumanize(text[1:], source)
    return dehumanize(text, source)


def read_value(files: dict[str, str], path: str) -> int:
    """One attribute: its text without the last byte (procfs cuts the newline blindly); 0 when
    the file is absent, as procfs 0.8."""
    text = files.get(path)
    if text is None:
        return 0
    if not text:
        raise ParseError(path, "empty file")
    return dehumanize(text[:-1], path)


def parse_writeback_rate_debug(text: str, source: str) -> dict[str, int]:
    out = dict.fromkeys(WRITEBACK, 0)
    for line in text.splitlines():
        key = line.split(":", 1)[0]
        fields = line.split()
        if key not in WRITEBACK or not fields:
            continue
        value = fields[-1].removesuffix("/sec") if key in ("rate", "change") else fields[-1]
        signed = key in ("proportional", "integral", "change")
        out[key] = dehumanize_signed(value, source) if signed else dehumanize(value, source)
    return out


def _dirs(files: dict[str, str], base: str, prefix: str) -> list[str]:
    """The ``<prefix>[0-9]*`` subdirectories of ``base`` seen in ``files``."""
    n = len(base) + 1
    names = {p[n:].split("/", 1)[0] for p in files if p.startswith(base + "/")}
    return sorted(
        d for d in names if d.startswith(prefix) and d[len(prefix) : len(prefix) + 1].isdigit()
    )


class BcacheCollector(Collector):
    name = "bcache"
    specs = (
        *(spec for _, spec, _ in SET_VALUES),
        *BDEV_TOTALS.values(),
        DIRTY_DATA,
        *WRITEBACK.values(),
        *CACHE_VALUES.values(),
    )

    def files(self, opts: Options) -> tuple[str, ...]:
        s = f"{SYS_BCACHE}/*-*"
        return (
            *(f"{s}/{f}" for f, _, _ in SET_VALUES),
            *(f"{s}/{period}/{f}" for period in ("stats_five_minute", "stats_total")
              for f in _PERIOD),
            f"{s}/bdev[0-9]*/dirty_data",
            f"{s}/bdev[0-9]*/writeback_rate_debug",
            *(f"{s}/bdev[0-9]*/{period}/{f}" for period in ("stats_five_minute", "stats_total")
              for f in _PERIOD),
            *(f"{s}/cache[0-9]*/{f}" for f in CACHE_VALUES),
        )  # fmt: skip

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        files = {f"{SYS_BCACHE}/{rest}": text for rest, text in snap.under(SYS_BCACHE + "/")}
        sets = sorted({p.split("/")[4] for p in files if "-" in p.split("/")[4]})
        for uuid in sets:
            base = f"{SYS_BCACHE}/{uuid}"
            for f, spec, scale in SET_VALUES:
                out.add(spec, read_value(files, f"{base}/{f}") * scale, uuid)
            for period in ("stats_five_minute", "stats_total"):  # read (and checked) as procfs
                for f in _PERIOD:
                    read_value(files, f"{base}/{period}/{f}")
            for bdev in _dirs(files, base, "bdev"):
                b = f"{base}/{bdev}"
                out.add(DIRTY_DATA, read_value(files, f"{b}/dirty_data"), uuid, bdev)
                debug = files.get(f"{b}/writeback_rate_debug")
                if debug is None:
                    raise ParseError(f"{b}/writeback_rate_debug", "failed to read")
                for key, value in parse_writeback_rate_debug(
                    debug, f"{b}/writeback_rate_debug"
                ).items():
                    out.add(WRITEBACK[key], value, uuid, bdev)
                for f in _PERIOD:
                    read_value(files, f"{b}/stats_five_minute/{f}")
                for f, spec in BDEV_TOTALS.items():
                    out.add(spec, read_value(files, f"{b}/stats_total/{f}"), uuid, bdev)
            for cache in _dirs(files, base, "cache"):
                for f, spec in CACHE_VALUES.items():
                    out.add(spec, read_value(files, f"{base}/{cache}/{f}"), uuid, cache)


COLLECTORS = [BcacheCollector]
