"""SSH transport: one persistent asyncssh connection per host, reused across probes.

Each connection keeps its collection sessions (``session.Session``: a perl or sh loop started
by one exec) idle between probes, so that a probe costs one request on an open channel: no
channel setup, no login shell, no interpreter start.  Up to four probes of one host run at
once, each on its own session.

asyncssh is imported here only; this module is imported lazily by the ``ssh`` module so that
``fleetwatch --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncssh

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.script import Plan
from fleetwatch.exporters.host.session import SESSIONS_PER_HOST, Session, SessionGone
from fleetwatch.exporters.kept import reuse_or_replace
from fleetwatch.inventory.model import Interpreter

if TYPE_CHECKING:
    from fleetwatch.inventory import Host

log = logging.getLogger(__name__)

#: errors after which no retry in the same probe can help
_FINAL = (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable, asyncssh.KeyImportError)
#: errors of a pooled connection that died between probes: drop it and reconnect once
_STALE = (
    asyncssh.ChannelOpenError,
    asyncssh.ConnectionLost,
    asyncssh.DisconnectError,
    BrokenPipeError,
    ConnectionResetError,
    SessionGone,
)
_PERL_GIVE_UP = 2
_BACKOFF_START = 0.1
_BACKOFF_MAX = 2.0


class ConnectFailed(Exception):
    """A connection attempt that told why it failed: ``reason`` for the metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


#: a connect that cannot succeed on a retry within the same probe
_UNREACHABLE = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)


def classify(exc: BaseException) -> str:
    """A short reason label for ``fleetwatch_probe_errors_total``, one a person can act on."""
    if isinstance(exc, ConnectFailed):
        return exc.reason
    if isinstance(exc, asyncssh.PermissionDenied):
        return "auth_failed"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return "host_key_unknown"
    if isinstance(exc, asyncssh.KeyImportError | asyncssh.KeyEncryptionError):
        return "client_key_unusable"
    if isinstance(exc, asyncssh.ProtocolError | asyncssh.ProtocolNotSupported):
        return "not_ssh"
    if isinstance(exc, asyncssh.KeyExchangeFailed):
        return "no_common_algorithm"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED
    ):
        return "connection_refused"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    if isinstance(exc, _STALE):
        return "connection_lost"
    if isinstance(exc, OSError):
        return "network"
    return "ssh_error"


def _final(exc: BaseException) -> bool:
    """True for failures that a retry within the same probe cannot change: fail fast."""
    final = (*_FINAL, asyncssh.ProtocolError, asyncssh.ProtocolNotSupported)
    if isinstance(exc, (*final, asyncssh.KeyExchangeFailed)):
        return True
    if isinstance(exc, ConnectFailed):
        return exc.reason in ("not_ssh", "connection_refused", "unreachable")
    return isinstance(exc, OSError) and exc.errno in _UNREACHABLE


def _describe(exc: BaseException) -> str:
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    if isinstance(exc, asyncssh.KeyExchangeFailed) and "sha1" in text.rsplit("received", 1)[-1]:
        text += " (an old server that offers only SHA-1: ssh.allow_sha1: true for this host)"
    return text


PREFERRED_CIPHERS = "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"
#: asyncssh's defaults less every SHA-1 algorithm (``ssh.allow_sha1: true`` keeps them)
SHA1_OFF = {
    "kex_algs": "-diffie-hellman-group14-sha1,gss-group14-sha1",
    "mac_algs": "-hmac-sha1-etm@openssh.com,hmac-sha1",
    "server_host_key_algs": "-ssh-rsa,ssh-rsa-cert-v01@openssh.com",
    "signature_algs": "-ssh-rsa",
}


@dataclass
class _HostState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sem: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(SESSIONS_PER_HOST))
    conn: Any = None
    idle: list[Session] = field(default_factory=list)
    #: answers cut short by perl sessions in a row; at _PERL_GIVE_UP the host gets sh sessions
    perl_failures: int = 0
    interpreter: Interpreter | None = None


@dataclass
class _Lease:
    """What one collection runs on: the host's connection and a session on it (opened on use
    when none was idle)."""

    conn: Any
    session: Session | None


class SSHPool:
    """Pooled SSH connections with bounded concurrency: at most ``max_concurrency`` probes
    (of all hosts) at once (``fleetwatch exporter --max-concurrency``)."""

    def __init__(self, max_concurrency: int = 64) -> None:
        self.max_concurrency = max_concurrency
        self._global = asyncio.Semaphore(max_concurrency)
        self._hosts: dict[str, _HostState] = {}
        self._warned: set[str] = set()

    def pool_size(self) -> int:
        return sum(1 for s in self._hosts.values() if s.conn is not None)

    async def close(self) -> None:
        for state in self._hosts.values():
            self._drop(state)
        self._hosts.clear()

    def _drop(self, state: _HostState) -> None:
        for session in state.idle:
            session.close()
        state.idle.clear()
        if state.conn is not None:
            state.conn.abort()
            state.conn = None

    async def run(self, host: Host, plan: Plan, nonce: str, timeout: float) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        state = self._hosts.setdefault(host.name, _HostState())
        try:
            async with asyncio.timeout_at(deadline):
                # the host's own slots first: a host that never answers holds at most
                # SESSIONS_PER_HOST of the global ones, not all of them
                async with state.sem, self._global:
                    return await self._run_with_reconnect(host, state, plan, nonce, deadline)
        except TimeoutError:
            raise ProbeError(
                host.name, "timeout", f"no complete answer within {timeout:.1f}s"
            ) from None

    async def _run_with_reconnect(
        self, host: Host, state: _HostState, plan: Plan, nonce: str, deadline: float
    ) -> str:
        async def acquire() -> tuple[_Lease, bool]:
            conn, reused = await self._connection(host, state, deadline)
            session = state.idle.pop() if state.idle else None
            return _Lease(conn, session), reused or session is not None

        async def use(lease: _Lease) -> str:
            if lease.session is None:
                interpreter = state.interpreter or host.ssh.interpreter
                lease.session = await Session.open(
                    lease.conn, interpreter, host.name, host.ssh.restricted
                )
            return await lease.session.collect(plan, nonce)

        def release(lease: _Lease, exc: BaseException | None) -> None:
            session = lease.session
            if exc is None and session is not None:
                if session.kind == "perl":
                    state.perl_failures = 0
                if state.conn is lease.conn and len(state.idle) < SESSIONS_PER_HOST:
                    state.idle.append(session)
                else:
                    session.close()
                return
            # lost, timed out, cancelled, garbage: the session's state is unknown
            if session is not None:
                session.close()
            if isinstance(exc, _STALE):
                if lease.conn.is_closed():
                    self._drop(state)
            elif session is not None and exc is not None:
                self._note_failure(host, state, session, exc)

        def retrying(exc: BaseException) -> None:
            log.info("target %s: pooled session lost (%s), reopening", host.name, exc)

        try:
            return await reuse_or_replace(acquire, use, release, _STALE, retrying)
        except _STALE as exc:
            raise ProbeError(host.name, classify(exc), _describe(exc)) from None

    @staticmethod
    def _note_failure(host: Host, state: _HostState, session: Session, exc: BaseException) -> None:
        """A host whose perl answers come back broken again and again (an odd perl build, a
        wrapper printing into the stream) is collected by sh sessions from then on."""
        if session.kind != "perl" or not isinstance(exc, ProbeError) or exc.reason != "bad_output":
            return
        if host.ssh.restricted:  # its forced command is perl: no sh session to fall back to
            return
        state.perl_failures += 1
        if state.perl_failures >= _PERL_GIVE_UP and state.interpreter != "sh":
            state.interpreter = "sh"
            log.warning(
                "target %s: %d broken answers from its perl session in a row; using sh now",
                host.name,
                state.perl_failures,
            )

    async def _connection(self, host: Host, state: _HostState, deadline: float) -> tuple[Any, bool]:
        async with state.lock:
            if state.conn is not None and not state.conn.is_closed():
                return state.conn, True
            state.conn = None
            loop = asyncio.get_running_loop()
            delay = _BACKOFF_START
            while True:
                remaining = deadline - loop.time()
                try:
                    # a little under the probe's deadline, so the connect says why it failed
                    budget = min(max(0.05, remaining - 0.1), host.ssh.connect_timeout_seconds)
                    state.conn = await self._connect(host, budget)
                    return state.conn, False
                except (OSError, asyncssh.Error, TimeoutError, ConnectFailed) as exc:
                    if _final(exc):
                        detail = _describe(exc)
                        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
                            changed = await _host_key_change(host)
                            if changed is not None:
                                raise ProbeError(host.name, "host_key_changed", changed) from None
                        raise ProbeError(host.name, classify(exc), detail) from None
                    # exponential backoff, but never past the probe's own deadline
                    if deadline - loop.time() <= delay:
                        detail = f"connect to {host.address}:{host.ssh.port}: {_describe(exc)}"
                        raise ProbeError(host.name, classify(exc), detail) from None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _BACKOFF_MAX)

    async def _connect(self, host: Host, timeout: float) -> Any:
        """TCP first, then SSH, each phase telling its own failure: no TCP answer
        (``no_answer``), refused, a listener that never says a word (``no_banner``), a
        server that is not SSH (``not_ssh``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        where = f"{host.address}:{host.ssh.port}"
        try:
            sock = await asyncio.wait_for(_tcp(host.address, host.ssh.port), timeout)
        except TimeoutError:
            raise ConnectFailed(
                "no_answer", f"no TCP answer from {where} in {timeout:.1f}s"
            ) from None
        try:
            first = await _peek(sock, max(0.0, deadline - loop.time()))
            if b"SSH-" not in first:
                shown = first.split(b"\n", 1)[0][:60].decode("ascii", "replace").strip()
                raise ConnectFailed("not_ssh", f"{where} is not an SSH server (it says {shown!r})")
            return await asyncio.wait_for(
                self._handshake(host, sock), max(0.0, deadline - loop.time())
            )
        except TimeoutError:
            sock.close()
            raise ConnectFailed(
                "no_banner", f"{where} accepted the connection but no SSH answer came"
            ) from None
        except BaseException:
            sock.close()
            raise

    async def _handshake(self, host: Host, sock: socket.socket) -> Any:
        ssh = host.ssh
        if host.name not in self._warned:  # once per host and exporter run
            self._warned.add(host.name)
            for warning in ssh.warnings():
                log.warning("target %s: %s", host.name, warning)
        options: dict[str, Any] = {
            "port": ssh.port,
            "known_hosts": None if ssh.known_hosts == "off" else (ssh.known_hosts_file or ()),
            "agent_path": () if ssh.use_agent else None,
            "keepalive_interval": 30,
            "keepalive_count_max": 3,
            # AES-GCM first (then asyncssh's defaults): with AES-NI it costs both ends less
            # than chacha20-poly1305, a third less exporter CPU per answer here
            "encryption_algs": PREFERRED_CIPHERS,
        }
        if not ssh.allow_sha1:  # per host opt-in for old servers
            options.update(SHA1_OFF)
        if ssh.user:  # else asyncssh uses the local user name, as ssh(1) does
            options["username"] = ssh.user
        if ssh.identity_file:
            options["client_keys"] = [ssh.identity_file]
        passphrase = ssh.passphrase()
        if passphrase is not None:
            options["passphrase"] = passphrase
        return await asyncssh.connect(host.address, sock=sock, **options)


async def _tcp(address: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket (every address the name has, in order)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    last: OSError | None = None
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, addr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    raise last or OSError(errno.EHOSTUNREACH, f"no address for {address}")


async def _peek(sock: socket.socket, timeout: float) -> bytes:
    """The first bytes the server sends, left in the socket for the SSH client (an SSH server
    speaks first: its version line); TimeoutError when it says nothing at all."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), readable)
    try:
        await asyncio.wait_for(ready, timeout)
    finally:
        loop.remove_reader(sock.fileno())
    try:
        return sock.recv(256, socket.MSG_PEEK)
    except OSError:
        return b"SSH-"  # let the SSH client meet and report the error itself


async def _host_key_change(host: Host) -> str | None:
    """If known_hosts holds keys for the host and the server offers another one: a message
    with both fingerprints (a changed key, maybe an attack); None when the host is unknown."""
    ssh = host.ssh
    if ssh.known_hosts == "off" or not ssh.known_hosts_file:
        return None
    try:
        known = asyncssh.read_known_hosts(ssh.known_hosts_file)
        addr = host.address
        trusted = known.match(host.address, addr, ssh.port)[0]
        if not trusted:
            return None
        offered = await asyncio.wait_for(
            asyncssh.get_server_host_key(host.address, ssh.port), ssh.connect_timeout_seconds
        )
    except (OSError, asyncssh.Error, TimeoutError, ValueError):
        return None
    if offered is None:
        return None
    known_prints = ", ".join(sorted({k.get_fingerprint() for k in trusted}))
    return (
        f"host key changed: {host.address}:{ssh.port} offers {offered.get_algorithm()} "
        f"{offered.get_fingerprint()}, {ssh.known_hosts_file} has {known_prints}"
    )
