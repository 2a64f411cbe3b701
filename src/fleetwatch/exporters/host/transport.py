"""How the host module runs a collection: the Transport interface and the local transport."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.script import Plan, plan_script

if TYPE_CHECKING:
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


class LocalTransport:
    """Runs the POSIX script with this machine's /bin/sh: the same parsers on local files."""

    async def run(self, host: Host, plan: Plan, nonce: str, timeout: float) -> str:
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            plan_script(plan, nonce),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        assert proc.stdout is not None
        try:
            out = await asyncio.wait_for(read_capped(proc.stdout, host.name), timeout)
            await asyncio.wait_for(proc.wait(), max(timeout, 0.1))
        except TimeoutError:
            raise ProbeError(
                host.name, "timeout", f"local collection exceeded {timeout:.1f}s"
            ) from None
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        return out.decode("utf-8", errors="replace")

    async def close(self) -> None:
        return None

    def pool_size(self) -> int:
        return 0
