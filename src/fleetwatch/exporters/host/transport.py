"""How the host module runs a collection: the Transport interface and the local transport."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.script import Plan
from fleetwatch.exporters.kept import reuse_or_replace

if TYPE_CHECKING:
    from fleetwatch.exporters.host.session import Session
    from fleetwatch.inventory import Host

#: a host printing more than this in one collection is broken or hostile
MAX_OUTPUT_BYTES = 32 * 1024 * 1024


class Transport(Protocol):
    async def run(self, host: Host, plan: Plan, nonce: str, timeout: float) -> str:
        """Collect ``plan`` on ``host``: the marked output ``script.parse_output`` reads, as
        text.  Raises ProbeError."""
        ...

    async def close(self) -> None: ...

    def pool_size(self) -> int: ...


class _LocalProcess:
    """A local child process with the interface Session uses on an SSH channel."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stdin = proc.stdin
        self.stdout = proc.stdout

    def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()


class LocalTransport:
    """This machine's own files through the same session program as over SSH (a perl loop,
    else sh: ``agent.session_command``), run as a child of the exporter and kept across
    probes; a session that fails is replaced."""

    def __init__(self) -> None:
        self._idle: list[Session] = []
        self._procs: set[_LocalProcess] = set()

    async def _open(self, target: str) -> Session:
        from fleetwatch.exporters.host.agent import session_command
        from fleetwatch.exporters.host.session import Session

        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            session_command("auto"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            limit=MAX_OUTPUT_BYTES,
        )
        process = _LocalProcess(proc)
        self._procs.add(process)
        proc_done = asyncio.ensure_future(proc.wait())
        proc_done.add_done_callback(lambda _: self._procs.discard(process))
        return await Session.start(process, target)

    async def run(self, host: Host, plan: Plan, nonce: str, timeout: float) -> str:
        # session.py imports this module: import it here
        from fleetwatch.exporters.host.session import SESSIONS_PER_HOST, SessionGone

        async def acquire() -> tuple[Session, bool]:
            if self._idle:
                return self._idle.pop(), True
            return await self._open(host.name), False

        async def use(session: Session) -> str:
            return await session.collect(plan, nonce)

        def release(session: Session, exc: BaseException | None) -> None:
            if exc is None and len(self._idle) < SESSIONS_PER_HOST:
                self._idle.append(session)
            else:  # a failed session's state is unknown: never reused
                session.close()

        try:
            async with asyncio.timeout(timeout):
                # SessionGone from a kept session: it died since (one new one is tried)
                return await reuse_or_replace(acquire, use, release, (SessionGone,))
        except SessionGone:
            raise ProbeError(host.name, "bad_output", "the local session ended") from None
        except TimeoutError:
            raise ProbeError(
                host.name, "timeout", f"local collection exceeded {timeout:.1f}s"
            ) from None

    async def close(self) -> None:
        for session in self._idle:
            session.close()
        self._idle.clear()
        for process in list(self._procs):
            process.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.proc.wait(), 5)

    def pool_size(self) -> int:
        return 0
