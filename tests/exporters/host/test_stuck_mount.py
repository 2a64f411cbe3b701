"""A network filesystem whose server stops answering must not take the host's probe down.

A real FUSE network mount (sshfs over the test sshd) is frozen with SIGSTOP: statfs on it then
blocks in the kernel, as on an NFS mount whose server is gone.  The perl session reads it in a
child with ``mount_timeout``: the probe still answers, that mount reports
``node_filesystem_device_error 1``, later probes skip it while it is stuck, and it comes back
once the server answers again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ssh_inventory_yaml
from fleetwatch.exporters.host.module import ssh_module
from fleetwatch.inventory import Host, inventory_from_text
from servers import Sshd, check_may_start, needs, wait_until

pytestmark = [pytest.mark.e2e, needs("sshfs", "fusermount3", root=True)]


def _mounted(path: Path) -> bool:
    lines = Path("/proc/self/mounts").read_text().splitlines()
    return any(line.split()[1] == str(path) for line in lines)


@pytest.fixture
def frozen_mount(sshd: Sshd) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    # the test user statfs()s the mount point: every directory above it must be traversable
    top = Path(tempfile.mkdtemp(prefix="fw-mnt-"))
    os.chmod(top, 0o755)
    mnt = top / "remote"
    mnt.mkdir()
    argv = [
        "sshfs", "-f", f"{sshd.user}@127.0.0.1:/tmp", str(mnt),
        "-o", f"port={sshd.port},IdentityFile={sshd.client_key}",
        "-o", f"UserKnownHostsFile={sshd.known_hosts},StrictHostKeyChecking=yes,BatchMode=yes",
        "-o", "allow_other",
    ]  # fmt: skip
    check_may_start("sshfs")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _mounted(mnt), 20, "the sshfs mount")
        yield mnt, proc
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        subprocess.run(["fusermount3", "-u", "-z", str(mnt)], check=False, timeout=20)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(top, ignore_errors=True)


def _host(sshd: Sshd) -> Host:
    text = ssh_inventory_yaml(sshd, ["nfs-client"])
    text = text.replace(
        "    use_agent: false\n",
        "    use_agent: false\n  collectors:\n    options: {mount_timeout: 1.5}\n",
    )
    return inventory_from_text(text).hosts()[0]


async def test_a_frozen_network_mount_fails_alone_and_recovers(
    sshd: Sshd, frozen_mount: tuple[Path, subprocess.Popen[bytes]]
) -> None:
    mnt, sshfs = frozen_mount
    labels = {"mountpoint": str(mnt), "device": f"{sshd.user}@127.0.0.1:/tmp"}
    labels["fstype"] = "fuse.sshfs"
    host = _host(sshd)
    module = ssh_module()
    try:
        result = await module.probe(host, 10.0)
        healthy = result.families
        mine = [lbl for lbl, _ in healthy.samples("node_filesystem_device_error")]
        assert any(lbl["mountpoint"] == str(mnt) for lbl in mine), (mine, result.errors)
        assert healthy.get("node_filesystem_size_bytes", labels) is not None
        assert healthy.get("node_filesystem_device_error", labels) == 0

        os.kill(sshfs.pid, signal.SIGSTOP)  # the "server" stops answering
        t0 = time.monotonic()
        frozen = (await module.probe(host, 10.0)).families
        first = time.monotonic() - t0
        assert frozen.get("node_filesystem_device_error", labels) == 1
        assert frozen.get("node_filesystem_size_bytes", labels) is None
        assert frozen.get("node_filesystem_size_bytes", {**labels, "mountpoint": "/"}) or any(
            lbl["mountpoint"] != str(mnt) for lbl, _ in frozen.samples("node_filesystem_size_bytes")
        )
        assert frozen.get("node_load1") is not None  # the rest of the probe is whole
        assert first < 6.0  # the mount's 1.5 s, not the probe's deadline

        t0 = time.monotonic()
        again = (await module.probe(host, 10.0)).families
        assert time.monotonic() - t0 < first  # still stuck: skipped, not waited for
        assert again.get("node_filesystem_device_error", labels) == 1

        os.kill(sshfs.pid, signal.SIGCONT)
        deadline = time.monotonic() + 20
        while True:
            back = (await module.probe(host, 10.0)).families
            if back.get("node_filesystem_device_error", labels) == 0:
                break
            assert time.monotonic() < deadline, "the mount never came back"
        assert back.get("node_filesystem_size_bytes", labels) is not None
    finally:
        os.kill(sshfs.pid, signal.SIGCONT)
        await module.close()
