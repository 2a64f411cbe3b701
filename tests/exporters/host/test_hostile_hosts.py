"""Hosts that misbehave must not block or crash any other probe.

The hostile hosts are real SSH servers (asyncssh, in this process) whose "shell" misbehaves,
and a raw TCP listener that accepts and never speaks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.module import HostModule
from fleetwatch.exporters.host.ssh import SSHPool
from fleetwatch.inventory import Host, SSHSettings

Behaviour = Callable[[Any], Any]


async def _garbage(process: Any) -> None:
    process.stdout.write(b"\x00\xff garbage \x1b[31m no markers here\n" * 100)
    process.exit(0)


async def _truncated(process: Any) -> None:
    # what a host that dies mid-output sends: a ready session, the start of a real answer, EOF
    process.stdout.write(b"\n@@FW@@ready sh\n")
    request = b""
    while request.count(b"@@FW@@") < 1 or b"@@files" not in request:
        chunk = await process.stdin.read(65536)
        if not chunk:
            break
        request += chunk
    nonce = request.split(b"@@FW@@")[1].split(b"@@")[0].decode() if b"@@FW@@" in request else "x"
    process.stdout.write(f"\n@@FW@@{nonce}@@files\n==> /proc/stat <==\ncpu  1 2".encode())
    process.exit(0)


_release = asyncio.Event()


async def _silent(process: Any) -> None:
    await _release.wait()  # accepts the command, never answers (until the test ends)
    process.exit(0)


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True  # public key below

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: Any) -> bool:
        return True


async def _start(behaviour: Behaviour, host_key: Any) -> tuple[Any, int]:
    server = await asyncssh.create_server(
        _Server,
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        process_factory=behaviour,
        encoding=None,
    )
    port = server.sockets[0].getsockname()[1]
    return server, port


@pytest.fixture
async def keys(tmp_path: Path) -> AsyncIterator[tuple[Any, Path, Path]]:
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp_path / "id_ed25519"
    client_key.write_private_key(str(key_path))
    known = tmp_path / "known_hosts"
    yield host_key, key_path, known


def _host(name: str, port: int, key: Path, known: Path) -> Host:
    return Host(
        name=name,
        address="127.0.0.1",
        deployment="test",
        provider="local",
        labels={},
        ssh=SSHSettings(
            user="fw",
            port=port,
            identity_file=str(key),
            use_agent=False,
            known_hosts_file=str(known),
            connect_timeout_seconds=2.0,
        ),
        scrape_interval_seconds=15,
        scrape_interval="15s",
    )


def _trust(known: Path, host_key: Any, ports: list[int]) -> None:
    line = host_key.export_public_key("openssh").decode().strip()
    known.write_text("".join(f"[127.0.0.1]:{p} {line}\n" for p in ports))


async def test_garbage_truncation_and_silence_fail_cleanly_and_in_parallel(keys: Any) -> None:
    host_key, key_path, known = keys
    servers = [await _start(b, host_key) for b in (_garbage, _truncated, _silent)]
    # a raw listener: accepts TCP and never sends the SSH banner
    writers: list[asyncio.StreamWriter] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await _release.wait()
        writer.close()

    _release.clear()
    hung = await asyncio.start_server(hang, "127.0.0.1", 0)
    hung_port = hung.sockets[0].getsockname()[1]
    _trust(known, host_key, [p for _, p in servers])
    module = HostModule("ssh", "test", SSHPool(max_concurrency=8))
    hosts = [
        _host(n, p, key_path, known) for n, (_, p) in zip(("g", "t", "s"), servers, strict=True)
    ]
    hosts.append(_host("hung", hung_port, key_path, known))
    try:
        t0 = time.monotonic()
        results = await asyncio.gather(
            *(module.probe(h, timeout=2.0) for h in hosts), return_exceptions=True
        )
        elapsed = time.monotonic() - t0
    finally:
        await module.close()
        _release.set()
        for server, _ in servers:
            server.close()
            await server.wait_closed()
        hung.close()
        await hung.wait_closed()
        await asyncio.sleep(0.05)  # let the handlers see the release and close
    reasons = {
        h.name: r.reason for h, r in zip(hosts, results, strict=True) if isinstance(r, ProbeError)
    }
    assert reasons == {
        "g": "bad_output",
        "t": "bad_output",
        "s": "timeout",
        "hung": "no_banner",  # a TCP listener that never speaks
    }, results
    assert all(isinstance(r, ProbeError) for r in results)
    # all four ran at once: the slow ones cost their own deadline, not the sum of them
    assert elapsed < 3.5
    messages = [str(r) for r in results]
    assert "no start marker" in messages[0]
    assert "truncated" in messages[1]


async def test_unknown_host_key_is_refused(keys: Any) -> None:
    host_key, key_path, known = keys
    server, port = await _start(_garbage, host_key)
    known.write_text("")  # strict by default: nothing trusted
    module = HostModule("ssh", "test", SSHPool())
    try:
        with pytest.raises(ProbeError) as err:
            await module.probe(_host("x", port, key_path, known), timeout=3.0)
    finally:
        await module.close()
        server.close()
        await server.wait_closed()
    assert err.value.reason == "host_key_unknown"


async def test_a_host_whose_perl_answers_break_is_collected_with_sh(keys: Any) -> None:
    host_key, key_path, known = keys
    commands: list[str] = []

    async def perl_broken_sh_fine(process: Any) -> None:
        command = process.command or ""
        commands.append(command)
        kind = "perl" if "exec perl" in command else "sh"
        process.stdout.write(f"\n@@FW@@ready {kind}\n".encode())
        request = b""
        while b"\n" not in request.rstrip(b"\n") or (
            kind == "sh" and b"</dev/null\n" not in request
        ):
            chunk = await process.stdin.read(65536)
            if not chunk:
                break
            request += chunk
        if kind == "perl":
            nonce = request.split(b"\n", 1)[0].decode()
            process.stdout.write(f"\n@@FW@@{nonce}@@files\n==> /proc/x <==\n".encode())
            process.exit(0)  # cut short: no end marker
            return
        nonce = request.rsplit(b" </dev/null\n", 1)[0].rsplit(b" ", 1)[1].decode()
        process.stdout.write(f"\n@@FW@@{nonce}@@files\n\n@@FW@@{nonce}@@end\n".encode())
        await process.stdin.read(65536)  # stay open until the pool closes the session
        process.exit(0)

    server, port = await _start(perl_broken_sh_fine, host_key)
    _trust(known, host_key, [port])
    module = HostModule("ssh", "test", SSHPool())
    host = _host("odd-perl", port, key_path, known)
    try:
        reasons = []
        for _ in range(2):
            with pytest.raises(ProbeError) as err:
                await module.probe(host, timeout=3.0)
            reasons.append(err.value.reason)
        result = await module.probe(host, timeout=3.0)  # now on a sh session: an answer
    finally:
        await module.close()
        server.close()
        await server.wait_closed()
    assert reasons == ["bad_output", "bad_output"]
    assert ["exec perl" in c for c in commands] == [True, True, False]
    assert result.families.get("node_scrape_collector_success", {"collector": "cpu"}) == 0


# --------------------------------------------------------------------------- reasons to act on


async def _probe_reason(host: Host, timeout: float = 3.0) -> tuple[ProbeError, float]:
    module = HostModule("ssh", "test", SSHPool())
    t0 = time.monotonic()
    try:
        with pytest.raises(ProbeError) as err:
            await module.probe(host, timeout=timeout)
    finally:
        await module.close()
    return err.value, time.monotonic() - t0


async def _listener(handle: Callable[..., Any]) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_refused_fails_fast(keys: Any) -> None:
    _, key_path, known = keys
    server, port = await _listener(lambda r, w: w.close())
    server.close()
    await server.wait_closed()  # nothing listens there now
    err, took = await _probe_reason(_host("r", port, key_path, known))
    assert err.reason == "connection_refused"
    assert took < 1.0  # no retries until the deadline: a retry cannot change a refusal


async def test_a_listener_that_never_speaks_is_no_banner(keys: Any) -> None:
    _, key_path, known = keys

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    known.write_text("")
    server, port = await _listener(mute)
    try:
        err, _ = await _probe_reason(_host("m", port, key_path, known), timeout=1.5)
    finally:
        server.close()
        await server.wait_closed()
    assert err.reason == "no_banner"
    assert "accepted the connection but no SSH answer came" in str(err)


async def test_a_server_that_is_not_ssh_is_named(keys: Any) -> None:
    _, key_path, known = keys

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()

    known.write_text("")
    server, port = await _listener(http)
    try:
        err, took = await _probe_reason(_host("h", port, key_path, known))
    finally:
        server.close()
        await server.wait_closed()
    assert err.reason == "not_ssh", str(err)
    assert took < 1.5


async def test_a_changed_host_key_says_so_with_both_fingerprints(keys: Any) -> None:
    host_key, key_path, known = keys
    server, port = await _start(_garbage, host_key)
    old = asyncssh.generate_private_key("ssh-ed25519")
    _trust(known, old, [port])  # what known_hosts had before the host's key changed
    try:
        err, _ = await _probe_reason(_host("c", port, key_path, known))
    finally:
        server.close()
        await server.wait_closed()
    assert err.reason == "host_key_changed"
    assert host_key.get_fingerprint() in str(err) and old.get_fingerprint() in str(err)


@pytest.mark.filterwarnings("ignore:Diffie-Hellman over finite fields")  # the old kex itself
async def test_sha1_only_hosts_need_their_own_opt_in(keys: Any) -> None:
    """An old server that offers only SHA-1 algorithms: refused by default, collected once
    the host says ``allow_sha1: true``."""
    import dataclasses

    _, key_path, known = keys
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    server = await asyncssh.create_server(
        _Server, "127.0.0.1", 0, server_host_keys=[rsa], process_factory=_garbage,
        encoding=None, kex_algs=["diffie-hellman-group14-sha1"], mac_algs=["hmac-sha1"],
        signature_algs=["ssh-rsa"],
    )  # fmt: skip
    port = server.sockets[0].getsockname()[1]
    _trust(known, rsa, [port])
    host = _host("old", port, key_path, known)
    try:
        err, _ = await _probe_reason(host)
        assert err.reason == "no_common_algorithm", str(err)
        assert "ssh.allow_sha1: true for this host" in str(err)
        opted = dataclasses.replace(host, ssh=dataclasses.replace(host.ssh, allow_sha1=True))
        err, _ = await _probe_reason(opted)  # connects: its shell then answers garbage
        assert err.reason == "bad_output", str(err)
    finally:
        server.close()
        await server.wait_closed()


async def _flood(process: Any) -> None:
    chunk = b"y" * 65536
    try:
        for _ in range(600):  # ~39 MiB before any "ready": more than the output cap
            process.stdout.write(chunk)
            await process.stdout.drain()
    except (BrokenPipeError, ConnectionError, asyncssh.Error):
        pass
    process.exit(0)


async def test_a_flooding_host_costs_its_cap_twice_then_is_backed_off(keys: Any) -> None:
    """A session that floods before it is ready costs the 32 MiB cap per probe: after two such
    probes in a row the exporter backs off instead of paying it on every scrape."""
    from fleetwatch.exporters.server import Exporter
    from fleetwatch.inventory import Inventory
    from fleetwatch.inventory.model import Deployment

    host_key, key_path, known = keys
    server, port = await _start(_flood, host_key)
    _trust(known, host_key, [port])
    host = _host("flood", port, key_path, known)
    dep = Deployment(name="test", provider="local", labels={}, resources=None, hosts=(host,))
    inv = Inventory("<t>", (dep,))
    exporter = Exporter(inv)
    try:
        for _ in range(2):
            with pytest.raises(ProbeError, match="bad_output"):
                await exporter.probe("flood", "ssh", 10.0)
        t0 = time.monotonic()
        with pytest.raises(ProbeError, match="failures in a row"):
            await exporter.probe("flood", "ssh", 10.0)
        assert time.monotonic() - t0 < 0.1  # answered at once, nothing read
    finally:
        await exporter.close()
        server.close()
        await server.wait_closed()
