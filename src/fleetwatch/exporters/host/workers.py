"""Host answers parsed in worker processes, so that one exporter uses more than one core.

The exporter's own process keeps the HTTP server and the SSH pool (one connection per host,
one set of self metrics); what a probe then costs in Python (splitting the answer, the
collectors, the exposition text) runs in worker processes.  A worker is ``python -m
fleetwatch.exporters.host.workers``: it reads requests on stdin and answers on stdout, one
length-prefixed pickle each, strictly in order.  A request is the raw answer, the collector
names and the options; the reply is the rendered exposition with the collectors that failed
or found no source.  A target always goes to the same worker, whose per-target memo (see
``Collector.inputs``) stays warm.

``fleetwatch exporter --workers N`` (0: parse in the exporter's process, as ``fleetwatch
probe`` and the tests that call a module directly always do).  Workers start on first use.  A
worker that dies fails no probe: its pending answers are parsed in the exporter's process and
a new worker starts for the next ones.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import struct
import sys
from typing import TYPE_CHECKING, BinaryIO

from fleetwatch import LOG_FORMAT
from fleetwatch.errors import ParseError, ProbeError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors import all_collectors
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.runner import Memo, run_collectors
from fleetwatch.exporters.host.script import parse_output
from fleetwatch.exporters.module import ProbeResult

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")

#: a request: raw answer, nonce, target name, collector names, options
Request = tuple[str, str, str, tuple[str, ...], Options]
#: a reply: ("ok", exposition, errors, absent) or ("bad_output", detail, {}, [])
Reply = tuple[str, bytes | str, dict[str, str], list[str]]

# per process (a worker, or the exporter when it parses itself): memos and collector sets
_MEMOS: dict[str, Memo] = {}
_COLLECTORS: dict[tuple[str, ...], list[Collector]] = {}


def _collectors(names: tuple[str, ...]) -> list[Collector]:
    chosen = _COLLECTORS.get(names)
    if chosen is None:
        by_name = {c.name: c for c in all_collectors()}
        chosen = _COLLECTORS[names] = [by_name[n] for n in names]
    return chosen


def parse_and_render(request: Request) -> Reply:
    """One answer: the exposition text and what failed."""
    raw, nonce, target, names, opts = request
    try:
        snap = parse_output(raw, nonce)
    except ParseError as exc:
        return ("bad_output", str(exc), {}, [])
    memo = _MEMOS.setdefault(target, {})
    result = run_collectors(_collectors(names), snap, opts, target, memo)
    return ("ok", result.families.render(), result.errors, result.absent)


def _frame(payload: object) -> bytes:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def _read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    data = stream.read(n)
    return data if data is not None and len(data) == n else None


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The worker's loop: one reply per request, in order, until stdin ends."""
    while (head := _read_exactly(stdin, _LENGTH.size)) is not None:
        body = _read_exactly(stdin, _LENGTH.unpack(head)[0])
        if body is None:
            return
        request: Request = pickle.loads(body)
        stdout.write(_frame(parse_and_render(request)))
        stdout.flush()


class _Worker:
    """One worker process, and the futures of its requests in the order they were sent."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.pending: collections.deque[tuple[Request, asyncio.Future[Reply]]] = collections.deque()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                head = await self.proc.stdout.readexactly(_LENGTH.size)
                body = await self.proc.stdout.readexactly(_LENGTH.unpack(head)[0])
                reply: Reply = pickle.loads(body)
                _, future = self.pending.popleft()
                if not future.done():
                    future.set_result(reply)
        except (asyncio.IncompleteReadError, ConnectionError, pickle.UnpicklingError, IndexError):
            pass
        finally:
            self._fail_pending()

    def _fail_pending(self) -> None:
        # the worker is gone: what it still owed is parsed here, nothing is lost
        if self.pending:
            log.warning("a parse worker ended with %d answers pending", len(self.pending))
        while self.pending:
            request, future = self.pending.popleft()
            if not future.done():
                future.set_result(parse_and_render(request))

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None and not self.reader.done()

    def send(self, request: Request) -> asyncio.Future[Reply]:
        assert self.proc.stdin is not None
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.pending.append((request, future))
        self.proc.stdin.write(_frame(request))
        return future

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5)


class ParseWorkers:
    """``processes`` worker processes, started on first use."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("ParseWorkers needs at least one process")
        self.processes = processes
        self._workers: list[_Worker | None] = [None] * processes
        self._lock: asyncio.Lock | None = None

    async def _worker(self, target: str) -> _Worker:
        index = hash(target) % self.processes
        worker = self._workers[index]
        if worker is not None and worker.alive:
            return worker
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            worker = self._workers[index]
            if worker is None or not worker.alive:
                if worker is not None:
                    log.warning("parse worker %d ended; starting a new one", index)
                    await worker.close()
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    __name__,
                    str(logging.getLogger().getEffectiveLevel()),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 24,
                )
                worker = self._workers[index] = _Worker(proc)
            return worker

    async def collect(
        self,
        raw: str,
        nonce: str,
        target: str,
        collectors: Sequence[Collector],
        opts: Options,
    ) -> ProbeResult:
        """The probe result of one raw answer; ``ProbeError`` (bad_output) for garbage.  The
        result carries its exposition in ``body`` (its ``families`` stay empty)."""
        request: Request = (raw, nonce, target, tuple(c.name for c in collectors), opts)
        worker = await self._worker(target)
        status, body, errors, absent = await worker.send(request)
        if status != "ok":
            raise ProbeError(target, "bad_output", str(body))
        assert isinstance(body, bytes)
        return ProbeResult(Families(), errors, absent, body=body)

    async def close(self) -> None:
        for i, worker in enumerate(self._workers):
            if worker is not None:
                self._workers[i] = None
                await worker.close()


def main(argv: list[str]) -> None:
    level = int(argv[0]) if argv and argv[0].isdigit() else logging.WARNING
    logging.basicConfig(level=level, format=LOG_FORMAT)
    # the replies own the real stdout; anything else printed goes to stderr
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main(sys.argv[1:])
