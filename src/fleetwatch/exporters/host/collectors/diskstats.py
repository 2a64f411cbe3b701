"""diskstats: /proc/diskstats, plus udev's /run/udev/data/b<major>:<minor> for node_disk_info.

node_disk_read_bytes_total{device="vda"} 9.12360448e+08
node_disk_io_time_seconds_total{device="vda"} 3.876
node_disk_info{device="vda",major="254",minor="0",model="",path="",revision="",serial="",wwn=""} 1
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import option_regex, uint, uints
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/diskstats"
UDEV_DIR = "/run/udev/data"
SECTOR = 512.0  # diskstats counts 512-byte sectors whatever the device's block size
TICK = 0.001  # milliseconds

# The /proc/diskstats value columns in order, with node_exporter's scale for each; kernels
# print 11 (< 4.18), 15 (discards) or 17 (flushes) of them and only those are emitted.
COLUMNS: tuple[tuple[Spec, float], ...] = (
    (counter("node_disk_reads_completed_total", "The total number of reads completed successfully.", "device"), 1.0),  # noqa: E501
    (counter("node_disk_reads_merged_total", "The total number of reads merged.", "device"), 1.0),
    (counter("node_disk_read_bytes_total", "The total number of bytes read successfully.", "device"), SECTOR),  # noqa: E501
    (counter("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", "device"), TICK),  # noqa: E501
    (counter("node_disk_writes_completed_total", "The total number of writes completed successfully.", "device"), 1.0),  # noqa: E501
    (counter("node_disk_writes_merged_total", "The number of writes merged.", "device"), 1.0),
    (counter("node_disk_written_bytes_total", "The total number of bytes written successfully.", "device"), SECTOR),  # noqa: E501
    (counter("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", "device"), TICK),  # noqa: E501
    (gauge("node_disk_io_now", "The number of I/Os currently in progress.", "device"), 1.0),
    (counter("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", "device"), TICK),
    (counter("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", "device"), TICK),  # noqa: E501
    (counter("node_disk_discards_completed_total", "The total number of discards completed successfully.", "device"), 1.0),  # noqa: E501
    (counter("node_disk_discards_merged_total", "The total number of discards merged.", "device"), 1.0),  # noqa: E501
    (counter("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", "device"), 1.0),  # noqa: E501
    (counter("node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", "device"), TICK),  # noqa: E501
    (counter("node_disk_flush_requests_total", "The total number of flush requests completed successfully", "device"), 1.0),  # noqa: E501
    (counter("node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", "device"), TICK),  # noqa: E501
)  # fmt: skip

INFO = gauge(
    "node_disk_info",
    "Info of /sys/block/<block_device>.",
    "device", "major", "minor", "path", "wwn", "model", "serial", "revision",
)  # fmt: skip
FILESYSTEM_INFO = gauge(
    "node_disk_filesystem_info",
    "Info about disk filesystem.",
    "device", "type", "usage", "uuid", "version",
)  # fmt: skip
DEVICE_MAPPER_INFO = gauge(
    "node_disk_device_mapper_info",
    "Info about disk device mapper.",
    "device", "name", "uuid", "vg_name", "lv_name", "lv_layer",
)  # fmt: skip
ATA = {
    "ID_ATA_WRITE_CACHE": gauge(
        "node_disk_ata_write_cache", "ATA disk has a write cache.", "device"
    ),
    "ID_ATA_WRITE_CACHE_ENABLED": gauge(
        "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled.", "device"
    ),
    "ID_ATA_ROTATION_RATE_RPM": gauge(
        "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs).", "device"
    ),
}


@dataclass(frozen=True)
class DiskStats:
    major: int
    minor: int
    device: str
    values: tuple[int, ...]  # 11, 15 or 17 columns (more are ignored)


def parse_diskstats(text: str) -> list[DiskStats]:
    """The devices of /proc/diskstats; lines with fewer than 11 values are skipped (procfs)."""
    disks = []
    width = 3 + len(COLUMNS)
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 3:
            raise ParseError(PATH, f"short line: {line[:80]!r}")
        numbers = uints([fields[0], fields[1], *fields[3:width]])
        if numbers is not None:
            major, minor, values = numbers[0], numbers[1], tuple(numbers[2:])
        else:
            major, minor = uint(fields[0], PATH), uint(fields[1], PATH)
            values = tuple(uint(f, PATH) for f in fields[3:width])
        if len(values) < 11:
            continue
        disks.append(DiskStats(major, minor, fields[2], values))
    return disks


@functools.lru_cache(maxsize=4096)
def parse_udev(text: str) -> dict[str, str]:
    """The ``E:KEY=VALUE`` device properties of a udev database file (cached: the same few
    files come back unchanged on every probe; callers only read the dict)."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("E:"):
            key, sep, value = line[2:].partition("=")
            if sep:
                props[key] = value
    return props


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class DiskstatsCollector(Collector):
    name = "diskstats"
    specs = (
        *(spec for spec, _ in COLUMNS),
        INFO,
        FILESYSTEM_INFO,
        DEVICE_MAPPER_INFO,
        *ATA.values(),
    )

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH, f"{UDEV_DIR}/b*")

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        pattern = opts.diskstats_device_exclude
        exclude = option_regex(pattern) if pattern else None  # "" is no filter
        for disk in parse_diskstats(text):
            dev = disk.device
            if exclude is not None and exclude.search(dev):
                continue
            udev = parse_udev(snap.file(f"{UDEV_DIR}/b{disk.major}:{disk.minor}") or "")
            serial = udev.get("SCSI_IDENT_SERIAL") or udev.get("ID_SERIAL_SHORT", "")
            out.add(
                INFO, 1, dev, str(disk.major), str(disk.minor), udev.get("ID_PATH", ""),
                udev.get("ID_WWN", ""), udev.get("ID_MODEL", ""), serial,
                udev.get("ID_REVISION", ""),
            )  # fmt: skip
            for (spec, scale), value in zip(COLUMNS, disk.values, strict=False):
                out.add(spec, float(value) * scale, dev)
            if udev.get("ID_FS_TYPE"):
                out.add(
                    FILESYSTEM_INFO, 1, dev, udev["ID_FS_TYPE"], udev.get("ID_FS_USAGE", ""),
                    udev.get("ID_FS_UUID", ""), udev.get("ID_FS_VERSION", ""),
                )  # fmt: skip
            if udev.get("DM_NAME"):
                out.add(
                    DEVICE_MAPPER_INFO, 1, dev, udev["DM_NAME"], udev.get("DM_UUID", ""),
                    udev.get("DM_VG_NAME", ""), udev.get("DM_LV_NAME", ""),
                    udev.get("DM_LV_LAYER", ""),
                )  # fmt: skip
            if udev.get("ID_ATA"):
                for key, spec in ATA.items():
                    number = _float_or_none(udev[key]) if key in udev else None
                    if number is not None:
                        out.add(spec, number, dev)


COLLECTORS = [DiskstatsCollector]
