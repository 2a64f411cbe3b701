"""The host modules ``ssh`` and ``local``: collectors + one script + a transport."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fleetwatch.errors import ParseError, ProbeError
from fleetwatch.exporters.families import Spec, catalog
from fleetwatch.exporters.host.collectors import Collector, all_collectors, select
from fleetwatch.exporters.host.runner import RUNNER_SPECS, Memo, run_collectors
from fleetwatch.exporters.host.script import Plan, make_plan, new_nonce, parse_output
from fleetwatch.exporters.host.transport import Transport
from fleetwatch.exporters.module import ProbeResult

if TYPE_CHECKING:
    from fleetwatch.exporters.host.workers import ParseWorkers
    from fleetwatch.inventory import Host, Service


class HostModule:
    """node_exporter-compatible metrics of a Linux host through a ``Transport``."""

    def __init__(self, name: str, description: str, transport: Transport) -> None:
        self.name = name
        self.description = description
        self.transport = transport
        self._selected: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Collector]] = {}
        self._plans: dict[str, tuple[list[Collector], Plan]] = {}
        #: per target: the last outcome of collectors whose inputs rarely change
        self._memos: dict[str, Memo] = {}
        #: worker processes that parse answers (set by the exporter), else this process
        self.offload: ParseWorkers | None = None

    def specs(self) -> list[Spec]:
        return catalog([*RUNNER_SPECS, *(s for c in all_collectors() for s in c.specs)])

    def collectors_for(self, host: Host) -> list[Collector]:
        key = (host.collectors_enable, host.collectors_disable)
        chosen = self._selected.get(key)
        if chosen is None:
            chosen = self._selected[key] = select(list(key[0]), list(key[1]))
        return chosen

    async def probe(self, target: Host | Service, timeout: float) -> ProbeResult:
        from fleetwatch.inventory import Host

        if not isinstance(target, Host):  # the exporter never routes a service here
            raise ProbeError(target.name, "internal", f"module {self.name} probes hosts only")
        host = target
        collectors = self.collectors_for(host)
        cached = self._plans.get(host.name)
        if cached is None or cached[0] is not collectors or cached[1].opts != host.options:
            cached = self._plans[host.name] = (collectors, make_plan(collectors, host.options))
        nonce = new_nonce()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        raw = await self.transport.run(host, cached[1], nonce, timeout)
        if self.offload is not None:
            left = max(deadline - loop.time(), 0.001)
            try:
                return await asyncio.wait_for(
                    self.offload.collect(raw, nonce, host.name, collectors, host.options), left
                )
            except TimeoutError:
                raise ProbeError(
                    host.name, "timeout", f"answer not parsed within {timeout:.1f}s"
                ) from None
        try:
            snap = parse_output(raw, nonce)
        except ParseError as exc:
            raise ProbeError(host.name, "bad_output", str(exc)) from None
        memo = self._memos.setdefault(host.name, {})
        return run_collectors(collectors, snap, host.options, host.name, memo)

    async def close(self) -> None:
        await self.transport.close()

    def pool_size(self) -> int:
        return self.transport.pool_size()


def ssh_module(max_concurrency: int = 64) -> HostModule:
    from fleetwatch.exporters.host.ssh import SSHPool  # asyncssh is heavy: import on use

    return HostModule("ssh", "Linux host over SSH, node_exporter names", SSHPool(max_concurrency))


def local_module() -> HostModule:
    from fleetwatch.exporters.host.transport import LocalTransport

    return HostModule("local", "this machine, node_exporter names", LocalTransport())
