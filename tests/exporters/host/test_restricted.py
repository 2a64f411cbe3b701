"""A restricted monitoring key on a real sshd: the forced command runs the agent with the
host's plan, and nothing else (no other command, no other plan, no forwarding)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.module import HostModule
from fleetwatch.exporters.host.restricted import authorized_keys_line, plan_hash
from fleetwatch.exporters.host.script import make_plan
from fleetwatch.exporters.host.ssh import SSHPool
from fleetwatch.inventory import Inventory, inventory_from_text
from servers import Sshd

pytestmark = pytest.mark.e2e


def _inventory(sshd: Sshd, key: Path, tmp: Path) -> Inventory:
    ssh = (
        f"{{user: {sshd.user}, port: {sshd.port}, identity_file: {key},"
        f" known_hosts_file: {sshd.known_hosts}, restricted: true}}"
    )
    return inventory_from_text(
        f"""version: 1
deployments:
  - name: d
    provider: p
    hosts:
      - {{name: r, address: 127.0.0.1, ssh: {ssh}}}
      - {{name: other, address: 127.0.0.1, ssh: {ssh}, collectors: {{disable: [loadavg]}}}}
""",
        str(tmp / "fleet.yaml"),
    )


@pytest.fixture
def restricted(sshd: Sshd, tmp_path: Path) -> Iterator[tuple[Inventory, Path]]:
    key = tmp_path / "id_monitor"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "monitor", "-f", str(key)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    inv = _inventory(sshd, key, tmp_path)
    host = inv.targets()["r"]
    plan = make_plan(
        select(list(host.collectors_enable), list(host.collectors_disable)), host.options
    )
    line = authorized_keys_line(key.with_suffix(".pub").read_text(), [plan_hash(plan)], None)
    assert line.startswith('restrict,command="') and line.endswith(" monitor") and "\n" not in line
    original = sshd.authorized_keys.read_text()
    sshd.authorized_keys.write_text(original + line + "\n")
    try:
        yield inv, key
    finally:
        sshd.authorized_keys.write_text(original)


def _ssh(
    sshd: Sshd, key: Path, *args: str, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["ssh", "-F", "none", "-i", str(key), "-p", str(sshd.port), "-o", "BatchMode=yes",
         "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={sshd.known_hosts}",
         "-o", "StrictHostKeyChecking=yes", f"{sshd.user}@127.0.0.1", *args],
        input=stdin, capture_output=True, timeout=30,
    )  # fmt: skip


async def test_a_probe_over_the_restricted_key_works(restricted: tuple[Inventory, Path]) -> None:
    inv, _ = restricted
    module = HostModule("ssh", "test", SSHPool())
    try:
        first = await module.probe(inv.targets()["r"], timeout=15.0)
        again = await module.probe(inv.targets()["r"], timeout=15.0)  # the stored plan
    finally:
        await module.close()
    for result in (first, again):
        text = result.exposition()
        assert b"node_load1 " in text and b"node_filesystem_size_bytes{" in text


async def test_another_plan_is_rejected_with_a_reason(restricted: tuple[Inventory, Path]) -> None:
    inv, _ = restricted
    module = HostModule("ssh", "test", SSHPool())
    try:
        with pytest.raises(ProbeError) as caught:
            await module.probe(inv.targets()["other"], timeout=15.0)
    finally:
        await module.close()
    assert caught.value.reason == "plan_rejected"
    assert "fleetwatch ssh restrict" in caught.value.detail


def test_no_other_command_and_no_tampered_plan(
    sshd: Sshd, restricted: tuple[Inventory, Path]
) -> None:
    _, key = restricted
    shadow = _ssh(sshd, key, "cat", "/etc/shadow")
    assert b"root:" not in shadow.stdout + shadow.stderr
    assert b"@@FW@@ready perl" in shadow.stdout  # the forced command ran, not cat
    shell = _ssh(sshd, key, "echo", "pwned-$((6*7))")
    assert b"pwned-42" not in shell.stdout
    tampered = _ssh(sshd, key, stdin=b"abc123\nF /etc/shadow\nE\n")
    assert b"@@FW@@abc123@@rejected " in tampered.stdout
    assert b"root:" not in tampered.stdout
    snippet = b"C\tx\t21\nid; cat /etc/shadow\n"
    injected = _ssh(sshd, key, stdin=b"abc123\n" + snippet + b"E\n")
    assert b"rejected" in injected.stdout and b"uid=" not in injected.stdout
    # a nonce that would break out of the markers' shell quoting ends the session
    quoted = _ssh(sshd, key, stdin=b"a';id;'\nE\n")
    assert b"uid=" not in quoted.stdout and b"@@FW@@a" not in quoted.stdout.split(b"perl\n", 1)[1]


async def test_forwarding_is_refused(sshd: Sshd, restricted: tuple[Inventory, Path]) -> None:
    _, key = restricted
    async with asyncssh.connect(
        "127.0.0.1", sshd.port, username=sshd.user, client_keys=[str(key)],
        known_hosts=str(sshd.known_hosts), agent_path=None,
    ) as conn:  # fmt: skip
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", sshd.port)  # -L
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", sshd.port)  # -R
    # -A and -X: sshd tells the client (-v) which key options it grants: only the command
    # (an unrestricted key reads "agent-forwarding port-forwarding pty user-rc x11-forwarding")
    forwarded = _ssh(sshd, key, "-v", "-A", "-X", "true")
    granted = re.findall(
        r"authorized_keys:\d+: key options: (.*?)\r?$", forwarded.stderr.decode(), re.M
    )
    assert granted and all(g.split() == ["command"] for g in granted), granted


async def test_a_rejected_plan_is_a_503_and_counted(restricted: tuple[Inventory, Path]) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from fleetwatch.exporters.server import Exporter

    inv, _ = restricted
    exporter = Exporter(inv)
    async with TestClient(TestServer(exporter.app())) as client:
        ok = await client.get("/probe", params={"target": "r"})
        assert ok.status == 200
        refused = await client.get("/probe", params={"target": "other"})
        body = await refused.text()
        metrics = await (await client.get("/metrics")).text()
        await exporter.close()
    assert refused.status == 503 and "plan_rejected" in body
    line = 'fleetwatch_probe_errors_total{module="ssh",reason="plan_rejected"} 1.0'
    assert line in metrics.splitlines()
