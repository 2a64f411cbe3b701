"""zfs: the kstat files of OpenZFS under /proc/spl/kstat/zfs, untyped as node_exporter 1.5.

    node_zfs_arc_size 1.603939792e+09
    node_zfs_zpool_nread{zpool="pool1"} 1.88416e+06
    node_zfs_zpool_dataset_writes{dataset="pool1/dataset1",zpool="pool1"} 4
    node_zfs_zpool_state{state="online",zpool="pool1"} 1

A kstat file is ``<header>`` / ``name type data`` / one ``<name> <type> <value>`` line per
counter; only type 4 (KSTAT_DATA_UINT64) lines are exported, as node_exporter 1.5 does.  No
/proc/spl/kstat/zfs (module not loaded): NoData.  A kstat file without its ``name type data``
line (truncated) fails the collector with the file's name.
"""

from __future__ import annotations

import functools
import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, gauge, untyped
from fleetwatch.exporters.host.collectors._sysfs import uint
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

BASE = "/proc/spl/kstat/zfs"
# node_exporter subsystem -> kstat file
SUBSYSTEMS = {
    "zfs_abd": "abdstats",
    "zfs_arc": "arcstats",
    "zfs_dbuf": "dbufstats",
    "zfs_dmu_tx": "dmu_tx",
    "zfs_dnode": "dnodestats",
    "zfs_fm": "fm",
    "zfs_vdev_cache": "vdev_cache_stats",
    "zfs_vdev_mirror": "vdev_mirror_stats",
    "zfs_xuio": "xuio_stats",
    "zfs_zfetch": "zfetchstats",
    "zfs_zil": "zil",
}
# node_exporter 1.5's pool states (no "suspended": such a pool has every state 0)
POOL_STATES = ("online", "degraded", "faulted", "offline", "removed", "unavail")
STATE = gauge("node_zfs_zpool_state", "kstat.zfs.misc.state", "zpool", "state")
_UINT64 = "4"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# declared for the catalog (dashboards and rules query these); others are made on the fly
KNOWN_ARC = (
    "hits", "misses", "size", "c", "c_min", "c_max", "p", "hdr_size", "data_size",
    "metadata_size", "l2_hits", "l2_misses", "l2_size", "arc_meta_used", "arc_meta_limit",
    "demand_data_hits", "demand_data_misses", "demand_metadata_hits", "demand_metadata_misses",
    "prefetch_data_hits", "prefetch_data_misses", "memory_throttle_count", "mru_size", "mfu_size",
)  # fmt: skip
KNOWN_IO = ("nread", "nwritten", "reads", "writes", "wtime", "wlentime", "wupdate", "rtime",
            "rlentime", "rupdate", "wcnt", "rcnt")  # fmt: skip
KNOWN_OBJSET = ("writes", "nwritten", "reads", "nread", "nunlinks", "nunlinked")


def _metric(name: str, source: str) -> str:
    """The metric name part of a kstat: after its last ".", "-" as "_"."""
    metric = name.rsplit(".", 1)[-1].replace("-", "_")
    if not _NAME.fullmatch(metric):
        raise ParseError(source, f"kstat name not usable in a metric name: {name[:60]!r}")
    return metric


@functools.lru_cache(maxsize=4096)
def kstat_spec(subsystem: str, kstat_file: str, kstat: str) -> Spec:
    """The family of one kstat (its help keeps the kstat's own name, "-" and all)."""
    metric = _metric(kstat, f"{BASE}/{kstat_file}")
    return untyped(f"node_{subsystem}_{metric}", f"kstat.zfs.misc.{kstat_file}.{kstat}")


@functools.lru_cache(maxsize=256)
def pool_spec(kstat: str) -> Spec:
    metric = _metric(kstat, f"{BASE}/*/io")
    return untyped(f"node_zfs_zpool_{metric}", f"kstat.zfs.misc.io.{kstat}", "zpool")


@functools.lru_cache(maxsize=256)
def dataset_spec(kstat: str) -> Spec:
    metric = _metric(kstat, f"{BASE}/*/objset-*")
    return untyped(
        f"node_zfs_zpool_dataset_{metric}", f"kstat.zfs.misc.objset.{kstat}", "zpool", "dataset"
    )


def _rows(text: str, source: str) -> list[list[str]]:
    """The fields of the lines after ``name type data``; ParseError when that line is missing."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.split() == ["name", "type", "data"]:
            return [parts for rest in lines[i + 1 :] if len(parts := rest.split()) >= 3]
    raise ParseError(source, "no 'name type data' line (truncated kstat?)")


def parse_kstat(text: str, source: str) -> dict[str, int]:
    """kstat name -> value of the uint64 counters of one kstat file."""
    out: dict[str, int] = {}
    for parts in _rows(text, source):
        if parts[1] == _UINT64:
            _metric(parts[0], source)
            out[parts[0]] = uint(parts[2], source)
    return out


def parse_pool_io(text: str, source: str) -> dict[str, int]:
    """The ``nread nwritten ...`` header and the values under it of a pool's io kstat."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = line.split()
        if len(header) >= 12 and header[0] == "nread":
            out: dict[str, int] = {}
            for row in lines[i + 1 :]:
                values = row.split()
                if len(values) < len(header):
                    raise ParseError(source, f"short io line {row[:80]!r}")
                for name, value in zip(header, values, strict=False):
                    _metric(name, source)
                    out[name] = uint(value, source)
            return out
    return {}


def parse_objset(text: str, source: str, pool: str) -> list[tuple[str, str, str, int]]:
    """(zpool, dataset, kstat, value) of the uint64 counters of one objset-* kstat.  As
    node_exporter, both names are "" for the counters before the ``dataset_name`` line."""
    zpool = dataset = ""
    out = []
    for parts in _rows(text, source):
        if parts[0] == "dataset_name":
            zpool, dataset = pool, parts[2]
        elif parts[1] == _UINT64:
            _metric(parts[0], source)
            out.append((zpool, dataset, parts[0], uint(parts[2], source)))
    return out


def parse_state(text: str) -> str:
    """A pool's state file: its first line, lower-cased."""
    return text.split("\n", 1)[0].lower()


def _pool(path: str) -> str:
    return path.rsplit("/", 2)[-2]


class ZfsCollector(Collector):
    name = "zfs"
    specs = (
        *(kstat_spec("zfs_arc", "arcstats", m) for m in KNOWN_ARC),
        *(pool_spec(m) for m in KNOWN_IO),
        *(dataset_spec(m) for m in KNOWN_OBJSET),
        STATE,
    )

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            BASE,  # the directory itself: read as empty when the module is loaded
            *(f"{BASE}/{f}" for f in SUBSYSTEMS.values()),
            f"{BASE}/*/io",
            f"{BASE}/*/objset-*",
            f"{BASE}/*/state",
        )

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        if snap.file(BASE) is None and not snap.under(BASE + "/"):
            raise NoData(BASE)
        for subsystem, kstat_file in SUBSYSTEMS.items():
            path = f"{BASE}/{kstat_file}"
            text = snap.file(path)
            if text is None:  # files come with features: an absent one is fine
                continue
            for kstat, value in parse_kstat(text, path).items():
                out.add(kstat_spec(subsystem, kstat_file, kstat), value)
        for path, text in snap.glob(f"{BASE}/*/io"):
            pool = _pool(path)
            for metric, value in parse_pool_io(text, path).items():
                out.add(pool_spec(metric), value, pool)
        for path, text in snap.glob(f"{BASE}/*/objset-*"):
            for zpool, dataset, kstat, value in parse_objset(text, path, _pool(path)):
                out.add(dataset_spec(kstat), value, zpool, dataset)
        for path, text in snap.glob(f"{BASE}/*/state"):
            pool, state = _pool(path), parse_state(text)
            for name in POOL_STATES:
                out.add(STATE, 1 if state == name else 0, pool, name)


COLLECTORS = [ZfsCollector]
