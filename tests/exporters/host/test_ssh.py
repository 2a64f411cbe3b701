"""Pooled collection sessions over the real sshd: reused, reopened when killed, either kind."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from conftest import ssh_inventory_yaml
from fleetwatch.exporters.host.module import ssh_module
from fleetwatch.exporters.host.ssh import SSHPool
from fleetwatch.inventory import Host, inventory_from_text
from servers import Sshd

pytestmark = pytest.mark.e2e  # the real sshd


def _host(sshd: Sshd, name: str, interpreter: str = "auto") -> Host:
    text = ssh_inventory_yaml(sshd, [name])
    text = text.replace(
        "    use_agent: false\n", f"    use_agent: false\n    interpreter: {interpreter}\n"
    )
    return inventory_from_text(text).hosts()[0]


def _sessions(user: str, program: str = "fleetwatch-session") -> list[str]:
    """PIDs of the user's processes whose command line starts with ``program`` (the perl
    session names itself so in ps)."""
    out = subprocess.run(
        ["ps", "-u", user, "-o", "pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()[1:2] == [program]]


async def test_both_kinds_give_the_same_families_and_the_session_is_reused(sshd: Sshd) -> None:
    module = ssh_module()
    pool = module.transport
    assert isinstance(pool, SSHPool)
    try:
        names = {}
        for interpreter in ("auto", "sh"):
            host = _host(sshd, f"kind-{interpreter}", interpreter)
            results = [await module.probe(host, 10.0) for _ in range(3)]
            state = pool._hosts[host.name]
            assert [s.kind for s in state.idle] == ["perl" if interpreter == "auto" else "sh"]
            names[interpreter] = results[-1].families.names()
            assert not results[-1].errors
        assert names["auto"] == names["sh"]
        assert len(names["auto"]) > 100
        # three probes each, one session each: one perl loop on the host (sessions of earlier
        # tests end a moment after their pools close)
        for _ in range(50):
            if len(_sessions(sshd.user)) == 1:
                break
            await asyncio.sleep(0.1)
        assert len(_sessions(sshd.user)) == 1
    finally:
        await module.close()


async def test_a_session_killed_between_probes_is_reopened(sshd: Sshd) -> None:
    module = ssh_module()
    host = _host(sshd, "killed")
    try:
        await module.probe(host, 10.0)
        before = _sessions(sshd.user)
        assert before
        subprocess.run(["kill", "-9", *before], check=True)
        result = await module.probe(host, 10.0)  # the dead session is noticed and replaced
        assert result.families.get("node_load1") is not None
        after = _sessions(sshd.user)
        assert after and not set(after) & set(before)
    finally:
        await module.close()


async def test_concurrent_probes_of_one_host_use_separate_sessions(sshd: Sshd) -> None:
    module = ssh_module()
    host = _host(sshd, "busy")
    pool = module.transport
    assert isinstance(pool, SSHPool)
    try:
        results = await asyncio.gather(*(module.probe(host, 10.0) for _ in range(6)))
        assert all(r.families.get("node_load1") is not None for r in results)
        idle = pool._hosts[host.name].idle
        assert 1 <= len(idle) <= 4  # at most four at once per host
        again = await asyncio.gather(*(module.probe(host, 10.0) for _ in range(4)))
        assert all(not r.errors for r in again)
    finally:
        await module.close()
    # closing the pool ends the sessions on the host
    for _ in range(50):
        if not _sessions(sshd.user):
            break
        await asyncio.sleep(0.1)
    assert not _sessions(sshd.user)


async def test_aes_gcm_is_preferred_and_a_host_without_it_still_connects(sshd: Sshd) -> None:
    module = ssh_module()
    pool = module.transport
    assert isinstance(pool, SSHPool)
    try:
        host = _host(sshd, "cipher")
        await module.probe(host, 10.0)
        conn = pool._hosts[host.name].conn
        assert conn.get_extra_info("send_cipher") == "aes128-gcm@openssh.com"
    finally:
        await module.close()
    # a server that offers only chacha20-poly1305 gets it: a preference, not a requirement
    with Sshd(extra_config="Ciphers chacha20-poly1305@openssh.com\n") as strict:
        module = ssh_module()
        pool = module.transport
        assert isinstance(pool, SSHPool)
        try:
            host = _host(strict, "cipher-strict")
            result = await module.probe(host, 10.0)
            assert not result.errors
            conn = pool._hosts[host.name].conn
            assert conn.get_extra_info("send_cipher") == "chacha20-poly1305@openssh.com"
        finally:
            await module.close()
