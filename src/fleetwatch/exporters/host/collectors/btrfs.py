"""btrfs: allocation statistics of mounted Btrfs filesystems, from /sys/fs/btrfs/<uuid>/, and
per-device sizes and error counters from btrfs ioctls on their mount points.

    node_btrfs_info{label="data",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1
    node_btrfs_used_bytes{block_group_type="data",mode="raid0",uuid="0abb23a9-..."} 8.08189952e+08
    node_btrfs_device_size_bytes{btrfs_dev_uuid="8351...",device="loop0",uuid="0abb..."} 3.1e+08
    node_btrfs_device_unused_bytes{btrfs_dev_uuid="8351...",device="loop0",uuid="0abb..."} 2.2e+08
    node_btrfs_device_errors_total{btrfs_dev_uuid="8351...",device="loop0",type="read",uuid=...} 0

Read as prometheus/procfs 0.8 does, quirks included: absent attribute files and unparsable
numbers are 0; without ``devices/`` or ``features/`` the global reserve reads 0; of the
``allocation/<type>`` directories only a missing ``system`` fails the filesystem (procfs's
reader keeps the error of the last one it reads).  No Btrfs mounted: nothing, successfully.

The device families are node_exporter 1.5's ioctl path: for each btrfs line of /proc/1/mounts
(first mount per device, first per filesystem id) BTRFS_IOC_FS_INFO, then for device ids 0 to
max_id BTRFS_IOC_DEV_INFO (ENODEV: a hole in the ids, skipped) and BTRFS_IOC_GET_DEV_STATS
(flags 0: never the reset flag).  None of them needs privileges.  The perl session issues them
with packed structs of linux/btrfs.h (``PERL_SUB``, no fork); the sh session runs the same perl
with ``perl -e`` only when /sys/fs/btrfs lists a filesystem.  A filesystem whose ioctls fail
(not permitted, perl without 64-bit integers, no perl at all) keeps node_exporter's fallback:
``device_size_bytes{device,uuid}`` from sysfs and no unused/error families; the collector still
succeeds.  Filesystems are matched by the sysfs uuid without dashes against FS_INFO's fsid, as
node_exporter does.  One divergence: device ids above 65535 are not scanned (the filesystem
falls back) so that a bogus max_id cannot make a probe issue billions of ioctls.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.script_vars import ARCH_VAR
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
_DEVICE_SIZE_HELP = "Size of a device that is part of the filesystem."
#: node_exporter's fallback when a filesystem has no ioctl answer: sysfs sizes, no device uuid
DEVICE_SIZE_SYSFS = gauge("node_btrfs_device_size_bytes", _DEVICE_SIZE_HELP, "uuid", "device")
#: the ioctl answer's (in a probe where only some filesystems have one, the others' devices
#: carry btrfs_dev_uuid="", which Prometheus stores as the label being absent)
DEVICE_SIZE = gauge(
    "node_btrfs_device_size_bytes", _DEVICE_SIZE_HELP, "uuid", "device", "btrfs_dev_uuid"
)
DEVICE_UNUSED = gauge(
    "node_btrfs_device_unused_bytes",
    "Unused bytes unused on a device that is part of the filesystem.",
    "uuid",
    "device",
    "btrfs_dev_uuid",
)
DEVICE_ERRORS = counter(
    "node_btrfs_device_errors_total",
    "Errors reported for the device",
    "uuid",
    "type",
    "device",
    "btrfs_dev_uuid",
)
#: the order of btrfs_ioctl_get_dev_stats.values (BTRFS_DEV_STAT_*_ERRS)
ERROR_TYPES = ("write", "read", "flush", "corruption", "generation")

CMD = "btrfs_ioctl"
#: device ids scanned at most per filesystem (real ones count the devices ever added)
MAX_DEVID = 65535

# The ioctls, as a perl sub that the perl session defines once (it has ``put`` and ``$arch``)
# and the sh session runs through ``perl -e``.  Request numbers are _IOR/_IOWR(0x94, nr, size)
# of asm-generic/ioctl.h (dir in bits 30-31, read 2, write 1), or of the architectures with a
# 3-bit dir field (dir in bits 29-31, read 2, write 4).  Struct sizes: fs_info_args 1024,
# dev_info_args 4096 (path at 3072), get_dev_stats 1032 (values at 24); all fields are
# naturally aligned, in host byte order (pack's Q).  Answer lines:
#   fs <fsid hex> <num_devices> <max_id>
#   dev <devid> <uuid hex> <bytes_used> <total_bytes> <5 error counters> <path>
#   skip <reason>          (this mount's filesystem failed: node_exporter skips it too)
# No single quote anywhere: the sh snippet puts the program in one.
PERL_SUB = r"""
sub btrfs_ioctl {
  my ($procfs, $rootfs) = @_;
  my ($dirs, $rd, $wr) = $arch =~ /^(?:ppc|powerpc|mips|sparc|alpha)/ ? (29, 2, 4) : (30, 2, 1);
  my $ioc = sub { ($_[0] << $dirs) | ($_[2] << 16) | (0x94 << 8) | $_[1] };
  my ($FS_INFO, $DEV_INFO, $DEV_STATS) =
    ($ioc->($rd, 31, 1024), $ioc->($rd | $wr, 30, 4096), $ioc->($rd | $wr, 52, 1032));
  my $fh;
  open($fh, "<", "$procfs/1/mounts") or open($fh, "<", "$procfs/mounts") or return 1;
  my (%dev_done, %fs_done);
  while (my $l = <$fh>) {
    my @f = split(" ", $l);
    next if @f < 3 || $f[2] ne "btrfs" || $dev_done{$f[0]};
    my $mp = $f[1];
    $mp =~ s/\\040/ /g;
    $mp =~ s/\\011/\t/g;
    my ($err, $o, $fsid) = ("", "", "");
    if (sysopen(my $d, "$rootfs$mp", 0)) {
      my $b = "\0" x 1024;
      if (ioctl($d, $FS_INFO, $b)) {
        my ($max, $num);
        ($max, $num, $fsid) = unpack("Q Q H32", $b);
        $o = "fs $fsid $num $max\n";
        $err = "max_id $max" if $max > __MAX_DEVID__;
        my $found = 0;
        for (my $id = 0; $err eq "" && !$fs_done{$fsid} && $id <= $max; $id++) {
          my $di = pack("Q", $id) . ("\0" x 4088);
          if (!ioctl($d, $DEV_INFO, $di)) {
            next if $! + 0 == 19;  # ENODEV: device ids have holes
            $err = "dev_info $id: $!";
            last;
          }
          my $ds = pack("Q3", $id, 5, 0) . ("\0" x 1008);
          if (!ioctl($d, $DEV_STATS, $ds)) { $err = "dev_stats $id: $!"; last }
          my ($uuid, $used, $total) = unpack("x8 H32 Q Q", $di);
          my $path = unpack("Z*", substr($di, 3072));
          $path =~ tr/\n/?/;
          $o .= join(" ", "dev", $id, $uuid, $used, $total, unpack("x24 Q5", $ds), $path) . "\n";
          $err = "too many devices" if ++$found > $num;
        }
      } else { $err = "fs_info: $!" }
      close $d;
    } else { $err = "open: $!" }
    if ($err ne "") { $err =~ tr/\n/ /; put("skip $err\n"); next }
    next if $fs_done{$fsid}++;
    $dev_done{$f[0]} = 1;
    put($o);
  }
  close $fh;
  1
}
""".replace("__MAX_DEVID__", str(MAX_DEVID))


def snippet(opts: Options) -> str:
    """The sh session's way to the same ioctls: perl, only when sysfs lists a filesystem (a
    glob, no fork, on hosts without Btrfs)."""
    program = "sub put { print @_ } my $arch = shift @ARGV;" + PERL_SUB + "btrfs_ioctl(@ARGV);"
    sysfs = opts.sysfs.rstrip("/")
    return (
        f"for fw_b in {_quote(sysfs + SYS_BTRFS[4:])}/*-*; do\n"
        '  [ -d "$fw_b" ] || continue\n'
        "  command -v perl >/dev/null 2>&1 && perl -e "
        + _quote(program)
        + f' "${ARCH_VAR}" {_quote(opts.procfs.rstrip("/"))} {_quote(opts.rootfs.rstrip("/"))}\n'
        "  break\ndone"
    )


def native_args(opts: Options) -> tuple[str, str]:
    """The perl session's arguments of ``btrfs_ioctl``: where /proc and / are on the host."""
    return opts.procfs.rstrip("/"), opts.rootfs.rstrip("/")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class IoctlDevice:
    """One device of a filesystem as BTRFS_IOC_DEV_INFO and GET_DEV_STATS report it."""

    device: str  # the basename of its path, as node_exporter labels it
    uuid: str
    used: int
    total: int
    errors: tuple[int, int, int, int, int]  # in ERROR_TYPES order


def _dashed(hex32: str) -> str:
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def parse_ioctl(text: str) -> dict[str, tuple[IoctlDevice, ...]]:
    """fsid (32 hex digits, lower case) -> its devices, from the answer of ``btrfs_ioctl``.

    Lenient on purpose: anything that is not a well-formed answer line (a perl error, a
    truncated line) drops the filesystem it belongs to, which then falls back to sysfs exactly
    as a failing ioctl does in node_exporter; it never fails the collector."""
    out: dict[str, tuple[IoctlDevice, ...]] = {}
    fsid: str | None = None
    devices: list[IoctlDevice] = []
    broken = False

    def close() -> None:
        if fsid is not None and not broken and fsid not in out:
            out[fsid] = tuple(devices)

    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "fs":
            close()
            fields = rest.split(" ")
            ok = len(fields) == 3 and _is_hex32(fields[0]) and all(_is_uint(f) for f in fields[1:])
            fsid, devices, broken = (fields[0].lower() if ok else None), [], not ok
        elif kind == "dev" and fsid is not None:
            fields = rest.split(" ", 9)
            numbers = fields[:1] + fields[2:9]
            if len(fields) == 10 and _is_hex32(fields[1]) and all(map(_is_uint, numbers)):
                values = [int(f) for f in fields[2:9]]
                devices.append(
                    IoctlDevice(
                        device=fields[9].rpartition("/")[2],
                        uuid=_dashed(fields[1]),
                        used=values[0],
                        total=values[1],
                        errors=(values[2], values[3], values[4], values[5], values[6]),
                    )
                )
            else:
                broken = True
        elif kind != "skip":  # not an answer: whatever came before it is not trusted
            fsid = None
    close()
    return out


def _is_hex32(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text)


def _is_uint(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) <= _MAX


def _value(text: str | None) -> int:
    """procfs's readValue: absent or unparsable is 0; too large is 2^64-1 (what Go's ParseUint
    returns with its range error, which procfs ignores)."""
    value = (text or "").strip()
    if value.isascii() and value.isdigit():
        return min(int(value), _MAX)
    return 0


def _divide(a: int, b: int) -> float:
    """Go's float64 division (x/0 is Â±Inf, 0/0 NaN), not Python's ZeroDivisionError; a -0
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
    specs = (INFO, GLOBAL_RSV, RESERVED, USED, SIZE, RATIO, DEVICE_SIZE, DEVICE_UNUSED,
             DEVICE_ERRORS)  # fmt: skip

    def commands(self, opts: Options) -> dict[str, str]:
        return {CMD: snippet(opts)}

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
        return (*snap.under(SYS_BTRFS + "/"), snap.command(CMD))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        by_fs: dict[str, dict[str, str]] = defaultdict(dict)
        for rest, text in snap.under(SYS_BTRFS + "/"):
            fs_dir, _, path = rest.partition("/")
            if "-" in fs_dir and path:
                by_fs[fs_dir][path] = text
        ioctl = parse_ioctl(snap.command(CMD) or "")
        parsed = [parse_btrfs(fs_dir, by_fs[fs_dir]) for fs_dir in sorted(by_fs)]
        # node_exporter pairs them by the sysfs uuid without dashes
        answers = [ioctl.get(fs.uuid.replace("-", "").lower()) for fs in parsed]
        size_spec = DEVICE_SIZE if any(a is not None for a in answers) else DEVICE_SIZE_SYSFS
        for fs, answer in zip(parsed, answers, strict=True):
            uuid = fs.uuid
            out.add(INFO, 1, uuid, fs.label)
            out.add(GLOBAL_RSV, fs.global_rsv_size, uuid)
            for kind in TYPES:
                out.add(RESERVED, fs.reserved[kind], uuid, kind)
                for mode, (total, used) in fs.layouts[kind].items():
                    out.add(USED, used, uuid, kind, mode)
                    out.add(SIZE, total, uuid, kind, mode)
                    out.add(RATIO, ratio(mode, len(fs.devices)), uuid, kind, mode)
            if answer is None:
                extra = ("",) if size_spec is DEVICE_SIZE else ()
                for device, size in fs.devices.items():
                    out.add(size_spec, size, uuid, device, *extra)
                continue
            for dev in answer:
                out.add(DEVICE_SIZE, dev.total, uuid, dev.device, dev.uuid)
                # Go's uint64 subtraction: a device reporting more used than total wraps
                out.add(DEVICE_UNUSED, (dev.total - dev.used) % (1 << 64), uuid, dev.device,
                        dev.uuid)  # fmt: skip
                for kind, count in zip(ERROR_TYPES, dev.errors, strict=True):
                    out.add(DEVICE_ERRORS, count, uuid, kind, dev.device, dev.uuid)


COLLECTORS = [BtrfsCollector]
