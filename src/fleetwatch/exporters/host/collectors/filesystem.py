"""filesystem: mounts from /proc/1/mounts, statfs(2) of each mount point by ``stat -f``.

    node_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} 2.70553174016e+11
    node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} 8.5001895936e+10
    node_filesystem_device_error{device="/dev/vda",fstype="ext4",mountpoint="/"} 0

The host picks the mount points itself (one awk over the mounts file with the exclusion
regexes) so that no statfs touches an excluded mount (autofs, a hung network share...); the
same filter is applied here again with Go-compatible regexes, and it decides what is emitted.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors._sysfs import option_regex, sh_quote
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

MOUNTS = "/proc/1/mounts"
# node_exporter falls back to /proc/mounts (a link to self/mounts) when hidepid hides pid 1
MOUNTS_FALLBACK = "/proc/self/mounts"
CMD = "statfs"
_AWK_FAILED = "fleetwatch-filesystem: awk failed"

_LABELS = ("device", "fstype", "mountpoint")
SIZE = gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", *_LABELS)
FREE = gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", *_LABELS)
AVAIL = gauge(
    "node_filesystem_avail_bytes",
    "Filesystem space available to non-root users in bytes.",
    *_LABELS,
)
FILES = gauge("node_filesystem_files", "Filesystem total file nodes.", *_LABELS)
FILES_FREE = gauge("node_filesystem_files_free", "Filesystem total free file nodes.", *_LABELS)
READONLY = gauge("node_filesystem_readonly", "Filesystem read-only status.", *_LABELS)
DEVICE_ERROR = gauge(
    "node_filesystem_device_error",
    "Whether an error occurred while getting statistics for the given device.",
    *_LABELS,
)

# one line per mount point: f_bsize f_blocks f_bfree f_bavail f_files f_ffree name (name last:
# it may contain spaces)
_STAT_FORMAT = "%s %b %f %a %c %d %n"
_STAT_LINE = re.compile(r"([0-9]+) ([0-9]+) ([0-9]+) ([0-9]+) ([0-9]+) ([0-9]+) (/.*)")

# fstab(5) escapes node_exporter undoes in the mount point (and only these)
_AWK = r"""{
  mp = $2; gsub(/\\040/, " ", mp); gsub(/\\011/, "\t", mp)
  if (NF < 4 || (mpx != "" && mp ~ mpx) || (fsx != "" && $3 ~ fsx) || (mp in seen)) next
  seen[mp] = 1; print mp
}"""


@dataclass(frozen=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str
    options: str


@dataclass(frozen=True)
class StatFs:
    bsize: int
    blocks: int
    bfree: int
    bavail: int
    files: int
    ffree: int


def parse_mounts(text: str, source: str = MOUNTS) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 4:
            raise ParseError(source, f"malformed mount point information: {line[:80]!r}")
        mp = parts[1].replace("\\040", " ").replace("\\011", "\t")
        mounts.append(Mount(parts[0], mp, parts[2], parts[3]))
    return mounts


def parse_statfs(text: str) -> tuple[dict[str, StatFs], list[str]]:
    """Statfs results by mount point, and the other lines (stat's error messages)."""
    stats: dict[str, StatFs] = {}
    other: list[str] = []
    for line in text.splitlines():
        m = _STAT_LINE.fullmatch(line)
        if m is None:
            if line.strip():
                other.append(line)
            continue
        values = [int(g) for g in m.groups()[:6]]
        stats[m.group(7)] = StatFs(*values)
    return stats, other


@functools.lru_cache(maxsize=64)
def host_regex(pattern: str) -> str:
    """``pattern`` (Go RE2) as a POSIX ERE for awk, or "" when it has no ERE equivalent.

    "" disables that host-side filter only; the exact filter is applied to the result.
    """
    if re.search(r"\(\?|[*+?}]\?", pattern):
        return ""
    classes = {"d": "[0-9]", "s": "[[:space:]]", "w": "[[:alnum:]_]"}
    out: list[str] = []
    bracket = -1  # index of the "[" of the bracket expression we are in, or -1
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in classes and bracket < 0:
                out.append(classes[nxt])
            elif nxt.isalpha():
                return ""  # \D, \b, \A, \pL... and classes inside brackets
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and bracket < 0:
            bracket = i
        elif ch == "]" and bracket >= 0:
            # a "]" right after "[" or "[^" is a literal member
            first = bracket + (2 if pattern[bracket + 1 : bracket + 2] == "^" else 1)
            if i > first:
                bracket = -1
        out.append(ch)
        i += 1
    return "".join(out)


def _awk_var(value: str) -> str:
    # awk -v processes escape sequences: double the backslashes to pass the regex unchanged
    return sh_quote(value.replace("\\", "\\\\"))


def statfs_snippet(opts: Options) -> str:
    mpx = _awk_var(host_regex(opts.mount_points_exclude))
    fsx = _awk_var(host_regex(opts.fs_types_exclude))
    return (
        "(\n"
        f"mf={MOUNTS}; [ -r $mf ] || mf={MOUNTS_FALLBACK}\n"
        f"mps=$(awk -v mpx={mpx} -v fsx={fsx} {sh_quote(_AWK)} $mf)"
        f" || {{ echo '{_AWK_FAILED}'; exit 0; }}\n"
        '[ -n "$mps" ] || exit 0\n'
        "set -f\n"
        "IFS='\n'\n"
        f"exec stat -f -c '{_STAT_FORMAT}' $mps\n"
        ")"
    )


def _excluded(pattern: str, value: str) -> bool:
    # an empty regex is no filter here, as on the host (awk skips an empty one)
    return bool(pattern) and option_regex(pattern).search(value) is not None


class FilesystemCollector(Collector):
    name = "filesystem"
    specs = (SIZE, FREE, AVAIL, FILES, FILES_FREE, READONLY, DEVICE_ERROR)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (MOUNTS, MOUNTS_FALLBACK)

    def commands(self, opts: Options) -> dict[str, str]:
        return {CMD: statfs_snippet(opts)}

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        # statfs' free counts move with every write: a hit on quiet file systems only
        return (snap.file(MOUNTS), snap.file(MOUNTS_FALLBACK), snap.command(CMD))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        source = MOUNTS
        text = snap.file(MOUNTS)
        if text is None:
            source, text = MOUNTS_FALLBACK, snap.file(MOUNTS_FALLBACK)
        if text is None:
            raise ParseError(MOUNTS, "not readable")
        mounts = parse_mounts(text, source)
        output = snap.command(CMD)
        if output is None:
            raise ParseError(CMD, "no output")
        if _AWK_FAILED in output:
            raise ParseError(CMD, "awk failed on the host (exclusion regexes not valid ERE?)")
        stats, other = parse_statfs(output)
        mp_re = option_regex(opts.mount_points_exclude)
        fs_re = option_regex(opts.fs_types_exclude)
        kept = [m for m in mounts if not mp_re.search(m.mountpoint) and not fs_re.search(m.fstype)]
        if kept and not stats and other:
            quoted = [f"'{m.mountpoint}'" for m in kept]
            if not any(q in line for q in quoted for line in other):
                raise ParseError("stat -f", f"not usable on the host: {other[0][:120]}")
        seen: set[tuple[str, str, str]] = set()
        for m in kept:
            labels = (m.device, m.fstype, m.mountpoint)
            if labels in seen:
                continue  # node_exporter keeps the first of identical mounts
            st = stats.get(m.mountpoint)
            if st is None:
                if any(f"'{m.mountpoint}'" in line for line in other):
                    seen.add(labels)
                    out.add(DEVICE_ERROR, 1, *labels)
                continue
            seen.add(labels)
            out.add(DEVICE_ERROR, 0, *labels)
            out.add(SIZE, float(st.blocks) * float(st.bsize), *labels)
            out.add(FREE, float(st.bfree) * float(st.bsize), *labels)
            out.add(AVAIL, float(st.bavail) * float(st.bsize), *labels)
            out.add(FILES, st.files, *labels)
            out.add(FILES_FREE, st.ffree, *labels)
            out.add(READONLY, 1 if "ro" in m.options.split(",") else 0, *labels)


COLLECTORS = [FilesystemCollector]
