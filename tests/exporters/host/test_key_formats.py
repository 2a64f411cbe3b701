"""Monitoring keys in every format ``ssh-keygen`` writes, with a passphrase or without, log in
to a real sshd (OpenSSH's own format needs bcrypt for its passphrase: a dependency now)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fleetwatch.exporters.host.module import HostModule
from fleetwatch.exporters.host.ssh import SSHPool
from fleetwatch.inventory import inventory_from_text
from servers import Sshd

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("kind", "fmt", "passphrase"),
    [("ed25519", "RFC4716", "s3cret pass"), ("ed25519", "RFC4716", ""),
     ("rsa", "PEM", "s3cret pass"), ("ecdsa", "PKCS8", "s3cret pass")],
)  # fmt: skip
async def test_key_formats_log_in(
    sshd: Sshd, tmp_path: Path, kind: str, fmt: str, passphrase: str
) -> None:
    key = tmp_path / f"id_{kind}"
    # RFC4716 is ssh-keygen's default for private keys: OpenSSH's own format
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-m", fmt, "-N", passphrase, "-C", "fw", "-f", str(key)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    if fmt == "RFC4716":
        assert key.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    original = sshd.authorized_keys.read_text()
    sshd.authorized_keys.write_text(original + key.with_suffix(".pub").read_text())
    (tmp_path / "pass").write_text(passphrase)
    secret = f", passphrase_file: {tmp_path / 'pass'}" if passphrase else ""
    inv = inventory_from_text(
        f"""version: 1
deployments:
  - name: d
    provider: p
    hosts:
      - name: k
        address: 127.0.0.1
        ssh: {{user: {sshd.user}, port: {sshd.port}, identity_file: {key},
              known_hosts_file: {sshd.known_hosts}{secret}}}
""",
        str(tmp_path / "fleet.yaml"),
    )
    module = HostModule("ssh", "test", SSHPool())
    try:
        result = await module.probe(inv.targets()["k"], timeout=10.0)
    finally:
        await module.close()
        sshd.authorized_keys.write_text(original)
    assert b"node_load1 " in result.exposition()
