"""How the host module runs a collection: the Transport interface and the local transport."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.script import Plan

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


async def read_capped(stream: asyncio.StreamReader, target: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_OUTPUT_BYTES:
            raise ProbeError(target, "bad_output", f"more than {MAX_OUTPUT_BYTES} bytes of output")
        chunks.append(chunk)


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

        try:
            async with asyncio.timeout(timeout):
                for attempt in (1, 2):
                    session = self._idle.pop() if self._idle else None
                    reused = session is not None
                    try:
                        if session is None:
                            session = await self._open(host.name)
                        raw = await session.collect(plan, nonce)
                    except SessionGone:
                        if session is not None:
                            session.close()
                        if not reused or attempt == 2:
                            raise ProbeError(
                                host.name, "bad_output", "the local session ended"
                            ) from None
                        continue  # a kept session that died since: one new one
                    except BaseException:
                        if session is not None:
                            session.close()
                        raise
                    if len(self._idle) < SESSIONS_PER_HOST:
                        self._idle.append(session)
                    else:
                        session.close()
                    return raw
        except TimeoutError:
            raise ProbeError(
                host.name, "timeout", f"local collection exceeded {timeout:.1f}s"
            ) from None
        raise AssertionError("unreachable")

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
