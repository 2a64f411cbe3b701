import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.filesystem import (
    FilesystemCollector,
    host_regex,
    parse_mounts,
    parse_statfs,
)
from fleetwatch.exporters.host.snapshot import Snapshot

MOUNTS = (FIXTURES / "proc/1/mounts").read_text()
STATFS = (FIXTURES / "cmd/statfs.txt").read_text()
GONE = "tmpfs /mnt/gone\\040away tmpfs rw,relatime 0 0\n"
ROOT = {"device": "/dev/vda", "fstype": "ext4", "mountpoint": "/"}


def collect(mounts: str, statfs: str, opts: Options | None = None) -> Families:
    out = Families()
    snap = Snapshot(files={"/proc/1/mounts": mounts}, commands={"statfs": statfs})
    FilesystemCollector().collect(snap, out, opts or Options())
    return out


def test_parse_real_mounts_unescapes_mount_points() -> None:
    mounts = parse_mounts(MOUNTS + GONE)
    root = next(m for m in mounts if m.mountpoint == "/")
    assert (root.device, root.fstype) == ("/dev/vda", "ext4")
    assert root.options.startswith("rw,relatime")
    assert mounts[-1].mountpoint == "/mnt/gone away"


def test_parse_statfs_separates_errors() -> None:
    stats, errors = parse_statfs(STATFS)
    assert stats["/"].bsize == 4096
    assert stats["/"].blocks == 66053021
    assert errors == [
        "stat: cannot read file system information for '/mnt/gone away': No such file or directory"
    ]


def test_collect_sizes_errors_and_exclusions() -> None:
    out = collect(MOUNTS + GONE, STATFS)
    assert out.get("node_filesystem_size_bytes", ROOT) == 66053021 * 4096
    assert out.get("node_filesystem_free_bytes", ROOT) == 60091444 * 4096
    assert out.get("node_filesystem_avail_bytes", ROOT) == 20636151 * 4096
    assert out.get("node_filesystem_files", ROOT) == 16777216
    assert out.get("node_filesystem_files_free", ROOT) == 16360747
    assert out.get("node_filesystem_readonly", ROOT) == 0
    assert out.get("node_filesystem_device_error", ROOT) == 0
    ro = {
        "device": "model_tools_unavailable",
        "fstype": "tmpfs",
        "mountpoint": "/mnt/sandboxing/model_tools_env/v1/python",
    }
    assert out.get("node_filesystem_readonly", ro) == 1
    gone = {"device": "tmpfs", "fstype": "tmpfs", "mountpoint": "/mnt/gone away"}
    assert out.get("node_filesystem_device_error", gone) == 1
    assert out.get("node_filesystem_size_bytes", gone) is None
    mountpoints = {lbl["mountpoint"] for lbl, _ in out.samples("node_filesystem_device_error")}
    assert not any(mp.startswith(("/proc", "/sys", "/dev")) for mp in mountpoints)


def test_mount_points_the_host_did_not_stat_are_skipped() -> None:
    out = collect(MOUNTS, STATFS, Options(mount_points_exclude="^/mnt/"))
    assert {lbl["mountpoint"] for lbl, _ in out.samples("node_filesystem_size_bytes")} == {"/"}


def test_host_regex_translation() -> None:
    assert host_regex(r"^(ram|loop)\d+$") == "^(ram|loop)[0-9]+$"
    assert host_regex(r"^/mnt/\.snap$") == r"^/mnt/\.snap$"
    assert host_regex("(?i)^/MNT") == ""
    assert host_regex(r"[\d]") == ""
    assert host_regex(r"[]x]\d") == "[]x][0-9]"
    assert host_regex(r"[^]x]\d") == "[^]x][0-9]"
    assert host_regex(Options().mount_points_exclude) == Options().mount_points_exclude


def test_missing_stat_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="stat -f"):
        collect(MOUNTS, "sh: 7: exec: stat: not found\n")
    with pytest.raises(ParseError, match="awk failed"):
        collect(MOUNTS, "awk: line 1: syntax error\nfleetwatch-filesystem: awk failed\n")


@pytest.mark.parametrize("text", ["rootfs /\n", "a b c\n", "\x00\x01 junk\n"])
def test_garbage_mounts_are_parse_errors(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/1/mounts"):
        collect(text, STATFS)


def test_fallback_to_self_mounts_and_missing_mounts() -> None:
    out = Families()
    snap = Snapshot(files={"/proc/self/mounts": MOUNTS}, commands={"statfs": STATFS})
    FilesystemCollector().collect(snap, out, Options())
    assert out.get("node_filesystem_size_bytes", ROOT) == 66053021 * 4096
    with pytest.raises(ParseError, match="not readable"):
        FilesystemCollector().collect(Snapshot(commands={"statfs": ""}), Families(), Options())
