"""Parse workers: the same exposition as parsing in the exporter, garbage and dead workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import pytest

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.host.agent import PERL_AGENT, request
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.script import make_plan, marker, parse_output
from fleetwatch.exporters.host.workers import ParseWorkers

NONCE = "workertest01"


async def _answer() -> str:
    """One real answer of the perl session on this machine."""
    plan = make_plan(select(), Options())
    proc = await asyncio.create_subprocess_exec(
        "perl", "-e", PERL_AGENT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(request("perl", plan, NONCE))
    proc.stdin.close()
    data = await asyncio.wait_for(proc.stdout.readuntil(f"\n{marker(NONCE)}end\n".encode()), 30)
    with contextlib.suppress(ProcessLookupError):  # it may have ended on its closed stdin
        proc.kill()
    await proc.wait()
    return data.decode()


def _without_durations(body: bytes) -> list[bytes]:
    return [line for line in body.splitlines() if b"collector_duration_seconds{" not in line]


async def test_a_worker_renders_what_the_exporter_would() -> None:
    raw = await _answer()
    collectors = select()
    here = run_collectors(collectors, parse_output(raw, NONCE), Options(), "t").families.render()
    workers = ParseWorkers(1)
    try:
        for _ in range(2):  # the second time through the worker's memo
            result = await workers.collect(raw, NONCE, "t", collectors, Options())
            assert result.body is not None
            assert _without_durations(result.exposition()) == _without_durations(here)
            assert result.errors == {}
            assert len(result.families) == 0  # the samples travel as text only
    finally:
        await workers.close()


async def test_garbage_is_bad_output_and_the_worker_stays() -> None:
    workers = ParseWorkers(1)
    try:
        with pytest.raises(ProbeError) as err:
            await workers.collect("no markers at all", NONCE, "t", select(), Options())
        assert err.value.reason == "bad_output"
        raw = await _answer()
        result = await workers.collect(raw, NONCE, "t", select(), Options())
        assert b"node_cpu_seconds_total" in result.exposition()
    finally:
        await workers.close()


async def test_a_killed_worker_loses_no_answer_and_is_replaced() -> None:
    raw = await _answer()
    collectors = select()
    workers = ParseWorkers(1)
    try:
        await workers.collect(raw, NONCE, "t", collectors, Options())
        first = workers._workers[0]
        assert first is not None
        pid = first.proc.pid
        pending = [
            asyncio.ensure_future(workers.collect(raw, NONCE, "t", collectors, Options()))
            for _ in range(5)
        ]
        os.kill(pid, signal.SIGKILL)
        results = await asyncio.wait_for(asyncio.gather(*pending), 60)
        assert all(b"node_cpu_seconds_total" in r.exposition() for r in results)
        again = await workers.collect(raw, NONCE, "t", collectors, Options())
        assert b"node_load1 " in again.exposition()
        second = workers._workers[0]
        assert second is not None and second.proc.pid != pid
    finally:
        await workers.close()
