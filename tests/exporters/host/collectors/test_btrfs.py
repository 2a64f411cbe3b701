import math
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.btrfs import (
    CMD,
    PERL_SUB,
    BtrfsCollector,
    parse_btrfs,
    parse_ioctl,
    ratio,
    snippet,
)
from fleetwatch.exporters.host.snapshot import Snapshot
from storage_tree import collect, garbage_run, mutated, tree_files

BTRFS = BtrfsCollector()
FS1 = "0abb23a9-579b-43e6-ad30-227ef47fcb9d"
FS2 = "7f07c59f-6136-449c-ab87-e1cf2328731b"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(BTRFS, tree_files(BTRFS))
    assert out.get("node_btrfs_info", {"uuid": FS1, "label": "fixture"}) == 1
    assert out.get("node_btrfs_info", {"uuid": FS2, "label": ""}) == 1
    assert out.get("node_btrfs_global_rsv_size_bytes", {"uuid": FS1}) == 16777216
    data = {"uuid": FS1, "block_group_type": "data", "mode": "raid0"}
    assert out.get("node_btrfs_used_bytes", data) == 808189952
    assert out.get("node_btrfs_size_bytes", data) == 2147483648
    raid5 = {"uuid": FS2, "block_group_type": "metadata", "mode": "raid5"}
    assert out.get("node_btrfs_allocation_ratio", raid5) == 4 / 3  # 4 devices
    assert out.get("node_btrfs_device_size_bytes", {"uuid": FS1, "device": "loop25"}) == (
        20971520 * 512
    )
    assert len(out.samples("node_btrfs_device_size_bytes")) == 6


def test_no_btrfs_is_nothing_and_go_division() -> None:
    assert len(collect(BTRFS, {})) == 0
    assert ratio("raid5", 1) == math.inf == ratio("raid6", 2)  # Go's x/0, not an exception
    assert ratio("raid1c3", 3) == 0.0
    assert ratio("raid6", 1) == -1.0 and str(ratio("raid5", 0)) == "0.0"  # -0 prints as 0


def test_unparsable_numbers_are_zero_but_a_missing_directory_an_error() -> None:
    files = {"allocation/data": "", "allocation/metadata": "", "allocation/system": "",
             "allocation/global_rsv_size": "lots\n"}  # fmt: skip
    assert parse_btrfs("a-b", files).global_rsv_size == 0
    files.update({"devices": "", "features": "", "allocation/global_rsv_size": "7\n"})
    assert parse_btrfs("a-b", files).global_rsv_size == 7
    del files["features"]  # procfs's pending error zeroes the global reserve
    assert parse_btrfs("a-b", files).global_rsv_size == 0
    del files["allocation/data"]  # procfs forgets this one's error
    assert parse_btrfs("a-b", files).layouts["data"] == {}
    del files["allocation/system"]
    with pytest.raises(ParseError, match="allocation/system"):
        parse_btrfs("a-b", files)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(BTRFS, data)


# --- the ioctl answer (device sizes and error counters) ---------------------------------------

DEV1 = "83515763-9f0d-4ef7-81b4-a377ca4f9d93"
DEV3 = "1c2d3e4f-0000-4abc-8def-0123456789ab"
# as the perl sub answers for FS1 with devices 1 and 3 (id 2 was removed: a hole), then a
# mount it could not open
IOCTL = (
    "fs 0abb23a9579b43e6ad30227ef47fcb9d 2 3\n"
    f"dev 1 {DEV1.replace('-', '')} 92274688 314572800 1 2 3 4 5 /dev/loop25\n"
    f"dev 3 {DEV3.replace('-', '').upper()} 0 10737418240 0 0 0 0 0 /dev/mapper/vg-a\n"
    "skip open: Permission denied\n"
)


def _with_ioctl(text: str, files: dict[str, str] | None = None) -> Families:
    out = Families()
    snap = Snapshot(files=dict(tree_files(BTRFS) if files is None else files),
                    commands={CMD: text})  # fmt: skip
    BTRFS.collect(snap, out, Options())
    return out


def test_ioctl_devices_as_node_exporter_emits_them() -> None:
    out = _with_ioctl(IOCTL)
    one = {"uuid": FS1, "device": "loop25", "btrfs_dev_uuid": DEV1}
    assert out.get("node_btrfs_device_size_bytes", one) == 314572800  # the ioctl's, not sysfs'
    assert out.get("node_btrfs_device_unused_bytes", one) == 314572800 - 92274688
    errors = {t: out.get("node_btrfs_device_errors_total", {**one, "type": t}) for t in
              ("write", "read", "flush", "corruption", "generation")}  # fmt: skip
    assert errors == {"write": 1, "read": 2, "flush": 3, "corruption": 4, "generation": 5}
    three = {"uuid": FS1, "device": "vg-a", "btrfs_dev_uuid": DEV3}  # basename of the path
    assert out.get("node_btrfs_device_unused_bytes", three) == 10737418240
    # FS2 had no answer: its sysfs sizes, with an empty device uuid (= no label in Prometheus)
    two = {"uuid": FS2, "device": "loop22", "btrfs_dev_uuid": ""}
    assert out.get("node_btrfs_device_size_bytes", two) is not None
    assert {s["uuid"] for s, _ in out.samples("node_btrfs_device_unused_bytes")} == {FS1}
    assert len(out.samples("node_btrfs_device_size_bytes")) == 2 + 4
    assert len(out.samples("node_btrfs_device_errors_total")) == 2 * 5
    assert b'btrfs_dev_uuid="83515763-9f0d-4ef7-81b4-a377ca4f9d93"' in out.render()


def test_without_an_answer_the_sysfs_label_set() -> None:
    for text in (
        "",
        "skip fs_info: Inappropriate ioctl for device\n",
        IOCTL.replace("0abb", "ffff"),
    ):
        out = _with_ioctl(text)
        labels = {frozenset(s) for s, _ in out.samples("node_btrfs_device_size_bytes")}
        assert labels == {frozenset({"uuid", "device"})}, text
        assert "node_btrfs_device_errors_total" not in out.names()


def test_a_broken_answer_drops_its_filesystem_only() -> None:
    fs2 = (
        "fs 7f07c59f6136449cab87e1cf2328731b 1 1\n"
        f"dev 1 {DEV1.replace('-', '')} 5 10 0 0 0 0 0 /dev/loop22\n"
    )
    assert set(parse_ioctl(IOCTL + fs2)) == {FS1.replace("-", ""), FS2.replace("-", "")}
    truncated = IOCTL.replace(" 1 2 3 4 5 ", " 1 2 3 ")
    assert set(parse_ioctl(truncated + fs2)) == {FS2.replace("-", "")}
    perl_died = IOCTL.replace("dev 3", "Invalid type 'Q' in unpack at -e line 1.\ndev 3")
    assert parse_ioctl(perl_died) == {}
    assert parse_ioctl(f"dev 1 {'0' * 32} 1 2 0 0 0 0 0 /dev/x\n") == {}  # no fs line before
    twice = parse_ioctl(fs2 + fs2.replace(" 5 10 ", " 6 10 "))  # the first answer counts
    assert twice[FS2.replace("-", "")][0].used == 5
    empty_path = parse_ioctl(fs2.replace(" /dev/loop22", " "))
    assert empty_path[FS2.replace("-", "")][0].device == ""


def test_more_used_than_total_wraps_as_go_uint64() -> None:
    out = _with_ioctl(IOCTL.replace("92274688 314572800", "314572801 314572800"))
    one = {"uuid": FS1, "device": "loop25", "btrfs_dev_uuid": DEV1}
    assert out.get("node_btrfs_device_unused_bytes", one) == float(2**64 - 1)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_garbage_answers_never_fail_the_collector(data: st.DataObject) -> None:
    text = data.draw(st.one_of(mutated(IOCTL), st.text(max_size=300)))
    parsed = parse_ioctl(text)
    assert all(len(k) == 32 for k in parsed)
    _with_ioctl(text)  # no exception of any kind: a bad answer is a missing one


def _run_perl_sub(tmp_path: Path, mounts: str) -> str:
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    (proc / "1" / "mounts").write_text(mounts)
    program = 'my $arch = "x86_64"; sub put { print @_ }' + PERL_SUB + "btrfs_ioctl(@ARGV);"
    done = subprocess.run(["perl", "-e", program, str(proc), ""], capture_output=True,
                          timeout=30, check=True)  # fmt: skip
    assert done.stderr == b""
    return done.stdout.decode()


def test_perl_sub_skips_what_is_not_a_btrfs_mount(tmp_path: Path) -> None:
    if shutil.which("perl") is None:
        pytest.skip("no perl on this machine")
    plain = tmp_path / "plain dir"
    plain.mkdir()
    mounts = (
        "/dev/sda1 / ext4 rw 0 0\n"  # not btrfs: not even opened
        "/dev/x /nonexistent/mnt btrfs rw 0 0\n"
        f"/dev/y {str(plain).replace(' ', chr(92) + '040')} btrfs rw 0 0\n"  # ENOTTY there
    )
    lines = _run_perl_sub(tmp_path, mounts).splitlines()
    assert lines[0] == "skip open: No such file or directory"
    assert lines[1].startswith("skip fs_info: ") and len(lines) == 2
    assert parse_ioctl("\n".join(lines)) == {}


def test_sh_snippet_runs_nothing_without_btrfs_in_sysfs(tmp_path: Path) -> None:
    opts = Options(sysfs=str(tmp_path), procfs=str(tmp_path / "nothing"))
    (tmp_path / "fs" / "btrfs").mkdir(parents=True)  # the module is loaded, nothing mounted
    done = subprocess.run(["sh", "-c", f"FW_ARCH=x86_64\n{snippet(opts)}\necho rc=$?"],
                          capture_output=True, timeout=30)  # fmt: skip
    assert done.stdout == b"rc=0\n" and done.stderr == b""
    assert "'" not in PERL_SUB  # the snippet quotes the program in single quotes
