"""The btrfs families, ioctl ones included, against Debian's node_exporter on a real Btrfs.

A 300 MiB image is made, loop-mounted, given a data checksum error (a file's block is
overwritten in the image while unmounted, then read back: EIO and corruption_errs 1 or more),
and then probed by fleetwatch over SSH as the unprivileged test user (perl session and sh
session) and scraped from node_exporter running as root.  Every node_btrfs_* sample of that
filesystem must be the same: names, label sets and values.  Skipped with the reason when this
machine cannot loop-mount (no root, no btrfs in the kernel, a container without loop devices).
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from conftest import ssh_inventory_yaml
from fleetwatch.exporters.host.module import ssh_module
from fleetwatch.inventory import inventory_from_text
from servers import NodeExporter, Sshd, require

pytestmark = pytest.mark.e2e

LABEL = "fwtest-btrfs"
PATTERN = b"fleetwatch btrfs corruption test block "
#: (sample name, sorted labels) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120)


def _mount(image: Path, mnt: Path) -> None:
    done = _run("mount", "-o", "loop", image, mnt)
    if done.returncode != 0:
        pytest.skip(f"cannot loop-mount a Btrfs image here: {done.stderr.strip()}")


def _corrupt(image: Path) -> None:
    """Overwrite the first 4 KiB block holding the victim file's data (data checksums stay)."""
    with image.open("r+b") as f:
        data = f.read()
        at = data.find(PATTERN * 64)
        assert at >= 0, "the victim file's data is not in the image"
        f.seek(at - at % 4096)
        f.write(b"X" * 4096)


@pytest.fixture(scope="module")
def btrfs_mount() -> Iterator[Path]:
    require("mkfs.btrfs", "mount", "umount", root=True)
    if "btrfs" not in Path("/proc/filesystems").read_text():
        pytest.skip("this kernel has no btrfs (not in /proc/filesystems)")
    # under /tmp with 0755, not pytest's 0700 tmp_path: the SSH test user opens the mount point
    base = Path(tempfile.mkdtemp(prefix="fw-btrfs-"))
    base.chmod(0o755)
    image, mnt = base / "image", base / "mnt"
    mnt.mkdir()
    mounted = False
    try:
        with image.open("wb") as f:
            f.truncate(300 * 1024 * 1024)
        done = _run("mkfs.btrfs", "-q", "-L", LABEL, image)
        assert done.returncode == 0, done.stderr
        _mount(image, mnt)
        mounted = True
        (mnt / "victim").write_bytes(PATTERN * 2048)  # 78 KiB: not inlined in metadata
        assert _run("umount", mnt).returncode == 0
        mounted = False
        _corrupt(image)
        _mount(image, mnt)
        mounted = True
        with pytest.raises(OSError) as caught:
            (mnt / "victim").read_bytes()
        assert caught.value.errno == errno.EIO
        os.sync()  # commit now: the device stats item and used bytes stop moving
        yield mnt
    finally:
        if mounted:
            _run("umount", mnt)
        shutil.rmtree(base, ignore_errors=True)


def _btrfs_samples(text: str, uuid: str | None = None) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("node_btrfs_") and (uuid is None or s.labels["uuid"] == uuid):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _our_uuid(samples: Samples) -> str:
    for (name, labels), _ in samples.items():
        if name == "node_btrfs_info" and ("label", LABEL) in labels:
            return dict(labels)["uuid"]
    raise AssertionError(f"no node_btrfs_info{{label={LABEL!r}}} in {sorted(samples)}")


def _probe(sshd: Sshd, interpreter: str) -> str:
    text = ssh_inventory_yaml(sshd, ["web-0"])
    text = text.replace(
        "    use_agent: false\n", f"    use_agent: false\n    interpreter: {interpreter}\n"
    )
    host = inventory_from_text(text, "<test>").host("web-0")

    async def probe() -> str:
        module = ssh_module()
        try:
            result = await module.probe(host, 30)
        finally:
            await module.close()
        assert result.errors == {}, result.errors
        return generate_latest(result.families).decode()

    return asyncio.run(probe())


@pytest.fixture(scope="module")
def btrfs_node_exporter(btrfs_mount: Path) -> Iterator[NodeExporter]:
    require("prometheus-node-exporter")
    with NodeExporter(extra_args=["--collector.disable-defaults", "--collector.btrfs"]) as ne:
        yield ne


@pytest.mark.parametrize("interpreter", ["auto", "sh"])
def test_btrfs_families_equal_node_exporters(
    btrfs_node_exporter: NodeExporter, sshd: Sshd, interpreter: str
) -> None:
    # node_exporter before and after the probe: the filesystem must not have moved meanwhile
    for _ in range(5):
        before = _btrfs_samples(btrfs_node_exporter.metrics())
        uuid = _our_uuid(before)
        before = {k: v for k, v in before.items() if dict(k[1])["uuid"] == uuid}
        probed = _probe(sshd, interpreter)
        after = _btrfs_samples(btrfs_node_exporter.metrics(), uuid)
        if before == after:
            break
    else:
        pytest.fail("the test filesystem kept changing between node_exporter scrapes")
    ours = _btrfs_samples(probed, uuid)
    assert sorted(ours) == sorted(before)
    assert ours == before
    assert 'node_scrape_collector_success{collector="btrfs"} 1.0' in probed
    # the ioctl families are there, with what the fixture did to the filesystem
    errors = {
        dict(k[1])["type"]: v for k, v in ours.items() if k[0].startswith("node_btrfs_device_e")
    }
    assert errors["corruption"] >= 1 and errors["write"] == errors["read"] == 0, errors
    sizes = [v for k, v in ours.items() if k[0] == "node_btrfs_device_size_bytes"]
    assert sizes == [300 * 1024 * 1024]
    unused = [v for k, v in ours.items() if k[0] == "node_btrfs_device_unused_bytes"]
    assert len(unused) == 1 and 0 < unused[0] < sizes[0]
