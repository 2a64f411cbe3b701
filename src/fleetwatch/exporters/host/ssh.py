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


def classify(exc: BaseException) -> str:
    """A short reason label for ``fleetwatch_probe_errors_total``."""
    if isinstance(exc, asyncssh.PermissionDenied):
        return "auth_failed"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return "host_key_not_verifiable"
    if isinstance(exc, asyncssh.KeyImportError | asyncssh.KeyEncryptionError):
        return "client_key_unusable"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED
    ):
        return "connection_refused"
    if isinstance(exc, _STALE):
        return "connection_lost"
    if isinstance(exc, OSError):
        return "network"
    return "ssh_error"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


PREFERRED_CIPHERS = "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"


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
                lease.session = await Session.open(lease.conn, interpreter, host.name)
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
                    state.conn = await asyncio.wait_for(
                        self._connect(host), min(remaining, host.ssh.connect_timeout_seconds)
                    )
                    return state.conn, False
                except _FINAL as exc:
                    raise ProbeError(host.name, classify(exc), _describe(exc)) from None
                except (OSError, asyncssh.Error, TimeoutError) as exc:
                    # exponential backoff, but never past the probe's own deadline
                    if deadline - loop.time() <= delay:
                        detail = f"connect to {host.address}:{host.ssh.port}: {_describe(exc)}"
                        raise ProbeError(host.name, classify(exc), detail) from None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _BACKOFF_MAX)

    async def _connect(self, host: Host) -> Any:
        ssh = host.ssh
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
        if ssh.user:  # else asyncssh uses the local user name, as ssh(1) does
            options["username"] = ssh.user
        if ssh.identity_file:
            options["client_keys"] = [ssh.identity_file]
        passphrase = ssh.passphrase()
        if passphrase is not None:
            options["passphrase"] = passphrase
        return await asyncssh.connect(host.address, **options)
