"""One collection session on a pooled SSH connection: start it, send requests, read answers.

The session is one exec channel running ``agent.session_command`` (perl loop or sh).  A
request is answered by output ending in ``@@FW@@<nonce>@@end``; the nonce is fresh per
collection, so no file content can end an answer early.  A session whose answer was cut short
(timeout, EOF, garbage) is closed, never reused.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.agent import READY, Kind, request, session_command
from fleetwatch.exporters.host.restricted import REQUESTED_COMMAND, plan_hash
from fleetwatch.exporters.host.script import Plan, marker
from fleetwatch.exporters.host.transport import MAX_OUTPUT_BYTES
from fleetwatch.inventory.model import Interpreter

#: collection sessions kept per host (SSH connection, or this machine for ``local``)
SESSIONS_PER_HOST = 4


class SessionGone(ConnectionError):
    """The session ended before answering a request at all (it may be retried once)."""


class Session:
    def __init__(self, process: Any, kind: Kind, target: str) -> None:
        self._process = process
        self.kind: Kind = kind
        self._target = target
        self._pending = b""  # bytes after the last answer (none from a well-behaved host)
        self._plans: set[str] = set()  # keys of the plans this session has stored

    @classmethod
    async def open(
        cls, conn: Any, interpreter: Interpreter, target: str, restricted: bool = False
    ) -> Session:
        """A session on an SSH connection (asyncssh).  On a ``restricted`` key the host's
        forced command is the session program, whatever command is asked for."""
        import asyncssh

        command = REQUESTED_COMMAND if restricted else session_command(interpreter)
        process = await conn.create_process(command, stderr=asyncssh.DEVNULL, encoding=None)
        try:
            return await cls.start(process, target)
        except ProbeError as exc:
            if restricted and exc.reason == "bad_output":
                raise ProbeError(
                    target,
                    "bad_output",
                    f"{exc.detail}; ssh.restricted is set: is the key's restrict,command line "
                    "(fleetwatch ssh restrict) installed on the host?",
                ) from None
            raise

    @classmethod
    async def start(cls, process: Any, target: str) -> Session:
        """A session on a started session program: waits for its ready line.  ``process``
        has ``stdin.write(bytes)``, ``await stdout.read(n)`` and ``close()``."""
        session = cls(process, "sh", target)
        no_start = "no start marker in the output (not a POSIX shell?)"
        try:
            # rc files may print before the ready line "\n@@FW@@ready perl|sh\n"
            try:
                data, at = await session._read_until(f"\n{READY}".encode(), no_start)
                while b"\n" not in data[at:]:
                    more, _ = await session._read_until(b"\n", no_start)
                    data += more
            except SessionGone:
                raise ProbeError(target, "bad_output", no_start) from None
            line_end = data.index(b"\n", at)
            kind = data[at:line_end].decode(errors="replace")
            if kind not in ("perl", "sh"):
                raise ProbeError(target, "bad_output", f"unknown session kind {kind[:20]!r}")
            session.kind = "perl" if kind == "perl" else "sh"
        except BaseException:
            session.close()
            raise
        return session

    async def _read_until(self, token: bytes, failure: str) -> tuple[bytearray, int]:
        """Bytes up to and including ``token``, and the index just after it.  Bytes beyond it
        stay pending.  EOF before any byte raises SessionGone, after some ProbeError."""
        data = bytearray(self._pending)
        self._pending = b""
        searched = 0
        while (found := data.find(token, searched)) < 0:
            searched = max(0, len(data) - len(token) + 1)
            chunk = await self._process.stdout.read(65536)
            if not chunk:
                if not data:
                    raise SessionGone("the session ended")
                raise ProbeError(self._target, "bad_output", failure)
            data += chunk
            if len(data) > MAX_OUTPUT_BYTES:
                raise ProbeError(self._target, "bad_output", f"more than {len(data)} bytes")
        cut = found + len(token)
        self._pending = bytes(data[cut:])
        del data[cut:]
        return data, cut

    async def collect(self, plan: Plan, nonce: str) -> str:
        """The raw answer to one collection (``script.parse_output`` reads it)."""
        self._process.stdin.write(request(self.kind, plan, nonce, plan.key in self._plans))
        self._plans.add(plan.key)
        end = f"\n{marker(nonce)}end\n".encode()
        data, _ = await self._read_until(end, "output ended before the end marker (truncated)")
        rejected = f"\n{marker(nonce)}rejected ".encode()
        if rejected in data:  # the nonce is fresh: no file content can hold it
            self._plans.discard(plan.key)
            raise ProbeError(
                self._target,
                "plan_rejected",
                "the host's restricted key accepts another collection plan (this one is "
                f"sha256 {plan_hash(plan)[:16]}...): the collectors or options changed since "
                "its authorized_keys line was made; install the one `fleetwatch ssh restrict` "
                "prints now",
            )
        return data.decode("utf-8", errors="replace")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._process.close()
