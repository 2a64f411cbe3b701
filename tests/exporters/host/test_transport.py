"""The local module: the same session program as over SSH, kept across probes."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

import pytest

from fleetwatch.exporters.host.module import HostModule, local_module
from fleetwatch.exporters.host.transport import LocalTransport
from fleetwatch.inventory import Host, default_inventory


def _session_pids(transport: LocalTransport) -> list[int]:
    return sorted(p.proc.pid for p in transport._procs if p.proc.returncode is None)


@pytest.fixture
async def local() -> AsyncIterator[tuple[HostModule, LocalTransport, Host]]:
    module = local_module()
    assert isinstance(module.transport, LocalTransport)
    try:
        yield module, module.transport, default_inventory().hosts()[0]
    finally:
        await module.close()


async def test_one_kept_session_answers_every_probe_and_ends_with_the_module(local) -> None:
    module, transport, host = local
    results = [await module.probe(host, 10.0) for _ in range(3)]
    assert all(not r.errors for r in results)
    assert results[-1].families.get("node_load1") is not None
    assert [s.kind for s in transport._idle] == ["perl"]
    pids = _session_pids(transport)
    assert len(pids) == 1
    await module.probe(host, 10.0)
    assert _session_pids(transport) == pids  # the same process, not a new one per probe
    await module.close()
    assert _session_pids(transport) == []
    assert not os.path.exists(f"/proc/{pids[0]}")  # ended and reaped


async def test_a_killed_session_is_replaced_without_a_failed_probe(local) -> None:
    module, transport, host = local
    await module.probe(host, 10.0)
    (pid,) = _session_pids(transport)
    os.kill(pid, signal.SIGKILL)
    result = await module.probe(host, 10.0)
    assert not result.errors
    assert result.families.get("node_load1") is not None
    assert _session_pids(transport) not in ([], [pid])
