"""The collection session's programs (perl loop, sh functions) answer like the one-shot script.

Run locally as subprocesses reading requests on stdin, exactly as the SSH session feeds them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetwatch.exporters.host.agent import PERL_AGENT, Kind, request
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.gpu import KEY as GPU_KEY
from fleetwatch.exporters.host.script import Plan, make_plan, new_nonce, parse_output, plan_script
from fleetwatch.exporters.host.snapshot import Snapshot

pytestmark = pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl")

# files whose content does not change between two reads a few ms apart
STABLE = ("/proc/sys/kernel/ostype", "/proc/sys/kernel/osrelease", "/etc/os-release")


class _Session:
    """A session program on pipes: requests in, answers out (as over the SSH channel)."""

    def __init__(self, kind: Kind, env: dict[str, str] | None = None) -> None:
        argv = ["perl", "-e", PERL_AGENT] if kind == "perl" else ["/bin/sh"]
        self.kind: Kind = kind
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env or dict(os.environ)
        )
        self.stored: set[str] = set()
        if kind == "perl":
            assert self._read_until(b"@@FW@@ready perl\n")

    def _read_until(self, token: bytes) -> bytes:
        assert self.proc.stdout is not None
        data = b""
        while token not in data:
            chunk = self.proc.stdout.read1(65536)
            assert chunk, f"session ended; got {data[-200:]!r}"
            data += chunk
        return data

    def collect(self, plan: Plan) -> Snapshot:
        assert self.proc.stdin is not None
        nonce = new_nonce()
        self.proc.stdin.write(request(self.kind, plan, nonce, plan.key in self.stored))
        self.proc.stdin.flush()
        self.stored.add(plan.key)
        raw = self._read_until(f"@@FW@@{nonce}@@end\n".encode()).decode()
        return parse_output(raw, nonce)

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        code = self.proc.wait(10)
        self.proc.stdout.close()
        assert code == 0


def _one_shot(plan: Plan, env: dict[str, str] | None = None) -> Snapshot:
    nonce = new_nonce()
    out = subprocess.run(
        ["/bin/sh", "-c", plan_script(plan, nonce)],
        capture_output=True,
        text=True,
        check=True,
        env=env or dict(os.environ),
    ).stdout
    return parse_output(out, nonce)


@pytest.mark.parametrize("kind", ["perl", "sh"])
def test_every_default_source_comes_back_as_from_the_one_shot_script(kind: Kind) -> None:
    plan = make_plan(select(), Options())
    session = _Session(kind)
    try:
        first = session.collect(plan)
        again = session.collect(plan)  # the stored plan: same sections
    finally:
        session.close()
    reference = _one_shot(plan)
    assert set(first.files) == set(reference.files)
    assert set(again.files) == set(reference.files)
    assert set(first.commands) == set(reference.commands) == set(plan.commands)
    for path in STABLE:
        if path in reference.files:
            assert first.files[path] == reference.files[path]
    # commands whose answer is the same whenever it is asked
    for key in ("uname_m", "sockstat_pagesize", "gpu", "hwmon_devices"):
        assert first.commands[key] == reference.commands[key], key
    mountpoints = [line.split(" ", 6)[-1] for line in reference.commands["statfs"].splitlines()]
    assert [line.split(" ", 6)[-1] for line in first.commands["statfs"].splitlines()] == (
        mountpoints
    )
    date, ref_date = first.commands["date"].split(), reference.commands["date"].split()
    assert date[1:] == ref_date[1:]  # zone offset and name
    assert abs(float(date[0]) - float(ref_date[0])) < 5
    timex = dict(line.split() for line in first.commands["timex"].splitlines())
    ref_timex = dict(line.split() for line in reference.commands["timex"].splitlines())
    assert timex.keys() == ref_timex.keys()
    assert timex["tick"] == ref_timex["tick"]


def _tree(root: Path) -> None:
    for d in ("cpu0", "cpu1", "cpu10", "cpux", ".hidden", "ab"):
        (root / d).mkdir(parents=True)
        (root / d / "value").write_text(f"{d}\n")
    (root / "cpu1" / "noeol").write_text("no newline at the end")
    (root / "cpu1" / "empty").write_text("")
    (root / "dir").mkdir()  # a directory among files: head shows it, empty


@pytest.mark.parametrize("kind", ["perl", "sh"])
def test_globs_expand_as_the_shell_expands_them(tmp_path: Path, kind: Kind) -> None:
    _tree(tmp_path)
    t = str(tmp_path)
    patterns = (
        f"{t}/cpu[0-9]*/value",
        f"{t}/cpu?/value",
        f"{t}/[!c]*/value",
        f"{t}/*/noeol",
        f"{t}/cpu1/empty",
        f"{t}/di[r]",
        f"{t}/missing/*/value",
        f"{t}/missing-file",
    )
    plan = Plan(patterns, {}, Options(), key=f"globs{kind}")
    session = _Session(kind)
    try:
        snap = session.collect(plan)
    finally:
        session.close()
    reference = _one_shot(plan)
    assert snap.files == reference.files
    assert snap.files[f"{t}/cpu1/noeol"] == "no newline at the end"
    assert f"{t}/.hidden/value" not in snap.files  # * does not match a leading dot
    assert snap.files[f"{t}/cpu1/empty"] == ""


def test_perl_runs_unknown_snippets_and_declined_natives_through_sh(tmp_path: Path) -> None:
    # a stand-in nvidia-smi on PATH: the native gpu check declines, the sh snippet runs it
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho '0, GPU-1234, Tesla T4, 42, 1000, 14000, 15000, 50, 70.5'\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    plan = make_plan(select(), Options())
    snippets = dict(plan.commands, custom='echo out; echo err >&2; echo "arch=$FW_ARCH"')
    plan = Plan(plan.files, snippets, plan.opts, key="with-custom")
    session = _Session("perl", env)
    try:
        snap = session.collect(plan)
        again = session.collect(plan)
    finally:
        session.close()
    machine = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    assert snap.commands["custom"] == f"out\nerr\narch={machine}\n"
    assert again.commands["custom"] == snap.commands["custom"]
    assert snap.commands[GPU_KEY] == _one_shot(plan, env).commands[GPU_KEY]
    assert "Tesla T4" in snap.commands[GPU_KEY]


def test_a_file_cannot_forge_the_end_of_an_answer(tmp_path: Path) -> None:
    forged = tmp_path / "forged"
    forged.write_text("\n@@FW@@ready perl\n\n@@FW@@0000@@end\nE\n")
    plan = Plan((str(forged),), {}, Options(), key="forged")
    session = _Session("perl")
    try:
        snap = session.collect(plan)
        snap2 = session.collect(plan)
    finally:
        session.close()
    assert snap.files[str(forged)] == forged.read_text() == snap2.files[str(forged)]


STORAGE_TREE = Path(__file__).resolve().parents[2] / "fixtures" / "storage"


@pytest.mark.parametrize("kind", ["perl", "sh"])
def test_a_moved_tree_reads_alike_in_both_sessions(kind: Kind) -> None:
    """The path options move every file pattern; the storage fixture tree (directories among
    the patterns, symlink-free sysfs copies) reads the same as with the one-shot script."""
    t = str(STORAGE_TREE)
    plan = make_plan(select(), Options(procfs=f"{t}/proc", sysfs=f"{t}/sys", rootfs=t))
    session = _Session(kind)
    try:
        snap = session.collect(plan)
    finally:
        session.close()
    reference = {p: text for p, text in _one_shot(plan).files.items() if p.startswith(t)}
    assert len(reference) > 250
    assert reference[f"{t}/proc/spl/kstat/zfs"] == ""  # a directory: present and empty
    assert {p: text for p, text in snap.files.items() if p.startswith(t)} == reference
