"""btrfs: allocation statistics of mounted Btrfs filesystems, from /sys/fs/btrfs/<uuid>/.

    node_btrfs_info{label="data",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1
    node_btrfs_used_bytes{block_group_type="data",mode="raid0",uuid="0abb23a9-..."} 8.08189952e+08
    node_btrfs_device_size_bytes{device="loop25",uuid="0abb23a9-..."} 1.073741824e+10

Read as prometheus/procfs 0.8 does, quirks included: absent attribute files and unparsable
numbers are 0; without ``devices/`` or ``features/`` the global reserve reads 0; of the
``allocation/<type>`` directories only a missing ``system`` fails the filesystem (procfs's
reader keeps the error of the last one it reads).  node_exporter 1.5
adds per-device error counters from btrfs ioctls on mounted filesystems (BTRFS_IOC_FS_INFO,
then BTRFS_IOC_DEV_INFO and BTRFS_IOC_GET_DEV_STATS per device id); those
(``device_errors_total``, ``device_unused_bytes`` and the ``btrfs_dev_uuid`` label that
``device_size_bytes`` then carries) are not served yet.  perl's ``ioctl`` on the mount point
could issue them with packed structs, but nothing here has a Btrfs filesystem to check the
struct layouts against.  No Btrfs mounted: nothing, successfully.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_BTRFS = "/sys/fs/btrfs"
TYPES = ("data", "metadata", "system")
SECTOR = 512
_MAX = (1 << 64) - 1
DIRS = ("devices", "features", *(f"allocation/{t}" for t in TYPES))

INFO = gauge("node_btrfs_info", "Filesystem information", "uuid", "label")
GLOBAL_RSV = gauge("node_btrfs_global_rsv_size_bytes", "Size of global reserve.", "uuid")
RESERVED = gauge(
    "node_btrfs_reserved_bytes",
    "Amount of space reserved for a data type",
    "uuid",
    "block_group_type",
)
USED = gauge(
    "node_btrfs_used_bytes",
    "Amount of used space by a layout/data type",
    "uuid",
    "block_group_type",
    "mode",
)
SIZE = gauge(
    "node_btrfs_size_bytes",
    "Amount of space allocated for a layout/data type",
    "uuid",
    "block_group_type",
    "mode",
)
RATIO = gauge(
    "node_btrfs_allocation_ratio",
    "Data allocation ratio for a layout/data type",
    "uuid",
    "block_group_type",
    "mode",
)
DEVICE_SIZE = gauge(
    "node_btrfs_device_size_bytes",
    "Size of a device that is part of the filesystem.",
    "uuid",
    "device",
)


def _value(text: str | None) -> int:
    """procfs's readValue: absent or unparsable is 0; too large is 2^64-1 (what Go's ParseUint
    returns with its range error, which procfs ignores)."""
    value = (text or "").strip()
    if value.isascii() and value.isdigit():
        return min(int(value), _MAX)
    return 0


def _divide(a: int, b: int) -> float:
    """Go's float64 division (x/0 is ±Inf, 0/0 NaN), not Python's ZeroDivisionError; a -0
    prints as 0 in node_exporter's exposition, so it is 0 here."""
    if b:
        return (a / b) or 0.0
    return float("nan") if a == 0 else float("inf")


def ratio(mode: str, devices: int) -> float:
    if mode in ("single", "raid0"):
        return 1.0
    if mode in ("dup", "raid1", "raid10"):
        return 2.0
    if mode == "raid5":
        return _divide(devices, devices - 1)
    if mode == "raid6":
        return _divide(devices, devices - 2)
    return 0.0


@dataclass(frozen=True)
class BtrfsStats:
    uuid: str
    label: str
    global_rsv_size: int
    reserved: dict[str, int]
    #: block group type -> mode -> (total bytes, used bytes)
    layouts: dict[str, dict[str, tuple[int, int]]]
    #: device -> size in bytes
    devices: dict[str, int]


def parse_btrfs(fs_dir: str, files: dict[str, str]) -> BtrfsStats:
    """One filesystem from ``files`` (path relative to its directory -> text)."""

    def present(d: str) -> bool:
        return d in files or any(p.startswith(d + "/") for p in files)

    if not present("allocation/system"):
        raise ParseError(f"{SYS_BTRFS}/{fs_dir}/allocation/system", "no such directory")
    reader_error = not present("devices") or not present("features")
    # the entries of devices/ (links to the block devices), each with its size or 0
    devices = {
        p.split("/")[1]: (SECTOR * _value(files.get(p + "/size"))) % (1 << 64)
        for p in files
        if p.startswith("devices/") and p.count("/") == 1
    }
    layouts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for p in files:
        parts = p.split("/")
        if (
            len(parts) == 4
            and parts[0] == "allocation"
            and parts[3] in ("total_bytes", "used_bytes")
        ):
            kind, mode = parts[1], parts[2]
            if kind in TYPES:
                base = f"allocation/{kind}/{mode}/"
                layouts[kind][mode] = (
                    _value(files.get(base + "total_bytes")),
                    _value(files.get(base + "used_bytes")),
                )
    uuid = (files.get("metadata_uuid") or "").strip() or fs_dir
    return BtrfsStats(
        uuid=uuid,
        label=(files.get("label") or "").strip(),
        global_rsv_size=0 if reader_error else _value(files.get("allocation/global_rsv_size")),
        reserved={t: _value(files.get(f"allocation/{t}/bytes_reserved")) for t in TYPES},
        layouts={t: dict(layouts[t]) for t in TYPES},
        devices=devices,
    )


class BtrfsCollector(Collector):
    name = "btrfs"
    specs = (INFO, GLOBAL_RSV, RESERVED, USED, SIZE, RATIO, DEVICE_SIZE)

    def files(self, opts: Options) -> tuple[str, ...]:
        fs = f"{SYS_BTRFS}/*-*"
        return (
            *(f"{fs}/{d}" for d in DIRS),  # directories: read as empty when present
            f"{fs}/label",
            f"{fs}/metadata_uuid",
            f"{fs}/devices/*",
            f"{fs}/devices/*/size",
            f"{fs}/allocation/global_rsv_size",
            f"{fs}/allocation/*/bytes_reserved",
            f"{fs}/allocation/*/*/total_bytes",
            f"{fs}/allocation/*/*/used_bytes",
        )

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return tuple(snap.under(SYS_BTRFS + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        by_fs: dict[str, dict[str, str]] = defaultdict(dict)
        for rest, text in snap.under(SYS_BTRFS + "/"):
            fs_dir, _, path = rest.partition("/")
            if "-" in fs_dir and path:
                by_fs[fs_dir][path] = text
        for fs_dir in sorted(by_fs):
            fs = parse_btrfs(fs_dir, by_fs[fs_dir])
            uuid = fs.uuid
            out.add(INFO, 1, uuid, fs.label)
            out.add(GLOBAL_RSV, fs.global_rsv_size, uuid)
            for kind in TYPES:
                out.add(RESERVED, fs.reserved[kind], uuid, kind)
                for mode, (total, used) in fs.layouts[kind].items():
                    out.add(USED, used, uuid, kind, mode)
                    out.add(SIZE, total, uuid, kind, mode)
                    out.add(RATIO, ratio(mode, len(fs.devices)), uuid, kind, mode)
            for device, size in fs.devices.items():
                out.add(DEVICE_SIZE, size, uuid, device)


COLLECTORS = [BtrfsCollector]
