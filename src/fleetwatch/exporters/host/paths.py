"""node_exporter's path options: collectors name the standard paths (/proc/..., /sys/...); the
plan reads them where ``Options`` says the watched system's trees are, and the snapshot is
given back the standard paths, so that no collector knows about the options.

``/proc`` -> procfs, ``/sys`` -> sysfs, ``/run/udev/data`` -> udev_data, any other path ->
under rootfs (as node_exporter reads /etc/os-release), except the textfile directory, which
node_exporter takes as it is.
"""

from __future__ import annotations

from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.snapshot import Snapshot

DEFAULTS = Options()


def _prefixes(opts: Options) -> list[tuple[str, str]]:
    """(standard prefix, where it is on this host), the specific ones first; only moved ones."""
    root = opts.rootfs.rstrip("/")
    pairs = [
        ("/proc", opts.procfs.rstrip("/")),
        ("/sys", opts.sysfs.rstrip("/")),
        ("/run/udev/data", opts.udev_data.rstrip("/")),
    ]
    moved = [(std, real) for std, real in pairs if real and real != std]
    if root:
        moved.append(("", root))
    return moved


def moved(opts: Options) -> bool:
    return (opts.procfs, opts.sysfs, opts.rootfs, opts.udev_data) != (
        DEFAULTS.procfs, DEFAULTS.sysfs, DEFAULTS.rootfs, DEFAULTS.udev_data,
    )  # fmt: skip


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def to_host(pattern: str, opts: Options) -> str:
    """Where a collector's file pattern is read on the host."""
    if not moved(opts):
        return pattern
    textfile = opts.textfile_directory.rstrip("/")
    if textfile and _under(pattern, textfile):
        return pattern
    for std in ("/proc", "/sys", "/run/udev/data"):
        if _under(pattern, std):
            real = {"/proc": opts.procfs, "/sys": opts.sysfs, "/run/udev/data": opts.udev_data}
            return real[std].rstrip("/") + pattern[len(std) :]
    return opts.rootfs.rstrip("/") + pattern


def host_view(snap: Snapshot, opts: Options) -> Snapshot:
    """The snapshot with the standard paths back (a no-op with the default options)."""
    if not moved(opts):
        return snap
    textfile = opts.textfile_directory.rstrip("/")
    pairs = sorted(_prefixes(opts), key=lambda p: len(p[1]), reverse=True)
    files: dict[str, str] = {}
    for path, text in snap.files.items():
        if textfile and _under(path, textfile):
            files[path] = text
            continue
        for std, real in pairs:
            if _under(path, real):
                files[(std + path[len(real) :]) or "/"] = text
                break
        else:  # read where the standard path is (that tree is not moved)
            files[path] = text
    return Snapshot(files=files, commands=dict(snap.commands))
