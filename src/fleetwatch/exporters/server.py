"""The exporter: HTTP endpoints over the modules (``/metrics``, ``/probe``)."""

from __future__ import annotations

import asyncio
import html
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import generate_latest

from fleetwatch.errors import ProbeError, UsageError
from fleetwatch.exporters import registry
from fleetwatch.exporters.backoff import Backoff
from fleetwatch.exporters.module import Module, ProbeResult, Target
from fleetwatch.exporters.selfmetrics import SelfMetrics

if TYPE_CHECKING:
    from fleetwatch.exporters.host.workers import ParseWorkers
    from fleetwatch.exporters.webconfig import WebConfig
    from fleetwatch.inventory import Inventory

log = logging.getLogger(__name__)

#: the text format node_exporter answers with (Prometheus 2.x parses it natively)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_TIMEOUT = 10.0
#: time kept back from Prometheus' scrape timeout to write the answer
TIMEOUT_MARGIN = 0.5
MIN_TIMEOUT = 0.5
#: no probe runs longer, whatever a request asks (Prometheus' own timeouts are seconds)
MAX_TIMEOUT = 120.0
#: what the outer deadline grants past the probe's own before it ends the probe
OUTER_GRACE = 1.0


def probe_timeout(header: str | None, cap: float = MAX_TIMEOUT) -> float:
    """The probe's budget from ``X-Prometheus-Scrape-Timeout-Seconds`` (minus a margin), at
    most ``cap`` (the target's scrape interval, and MAX_TIMEOUT): ``inf`` or ``1e9`` from an
    unauthenticated request must not let a probe hold its slot for ever."""
    cap = max(MIN_TIMEOUT, min(cap, MAX_TIMEOUT))
    if not header:
        return min(DEFAULT_TIMEOUT, cap)
    try:
        value = float(header)
    except ValueError:
        return min(DEFAULT_TIMEOUT, cap)
    if value != value or value <= 0:  # NaN or nonsense
        return min(DEFAULT_TIMEOUT, cap)
    return max(MIN_TIMEOUT, min(value - TIMEOUT_MARGIN, cap))


def _check_module(name: str) -> None:
    known = registry.module_names()
    if name not in known:
        raise UsageError(f"unknown module {name!r} (known: {', '.join(known)})")


class Exporter:
    """Targets from an inventory, probed through lazily created modules."""

    def __init__(self, inventory: Inventory, max_concurrency: int = 64, workers: int = 0) -> None:
        self.inventory = inventory
        self.max_concurrency = max_concurrency
        self.targets = inventory.targets()
        self._modules: dict[str, Module] = {}
        #: processes that parse host answers (0: this process); see exporters.host.workers
        self.workers = workers
        self._parse_workers: ParseWorkers | None = None
        #: list the targets on / (off: `fleetwatch exporter --no-target-list`)
        self.list_targets = True
        used = sorted({m for h in self.targets.values() for m in h.modules})
        self.backoff = Backoff()
        self.metrics = SelfMetrics(used, self._pool_sizes, self.backoff.backing_off)
        #: this process's replica id under ``scale:`` and target -> owning replica (None: all)
        self.replica: str | None = None
        self._owners: dict[str, str] = {}

    def serve_replica(self, replica: str) -> None:
        """Probe only the targets the inventory's assignment gives ``replica``; any other
        answers 503 ``not_assigned``.  UsageError if the inventory has no such replica."""
        from fleetwatch.inventory.assign import assignment

        scale = self.inventory.scale
        if scale is None:
            raise UsageError("--replica needs an inventory with a scale: section")
        known = [e.id for e in scale.exporters]
        if replica not in known:
            raise UsageError(f"--replica {replica!r}: not in scale.exporters ({', '.join(known)})")
        self.replica = replica
        self._owners = assignment(self.inventory)
        for module in sorted({m for h in self.targets.values() for m in h.modules}):
            self.metrics.errors.labels(module, "not_assigned")  # counted from the start

    def assigned(self, target: str) -> bool:
        return self.replica is None or self._owners.get(target) == self.replica

    def _pool_sizes(self) -> dict[str, int]:
        return {name: m.pool_size() for name, m in self._modules.items()}

    def module(self, name: str) -> Module:
        mod = self._modules.get(name)
        if mod is None:
            _check_module(name)
            mod = registry.create(name, max_concurrency=self.max_concurrency)
            self._modules[name] = mod
            if self.workers > 0 and name in registry.HOST_MODULES:
                from fleetwatch.exporters.host.module import HostModule
                from fleetwatch.exporters.host.workers import ParseWorkers

                if self._parse_workers is None:
                    self._parse_workers = ParseWorkers(self.workers)
                assert isinstance(mod, HostModule)
                mod.offload = self._parse_workers
        return mod

    def resolve(self, target: str, module: str | None) -> tuple[str, str]:
        host = self.targets.get(target)
        if host is None:
            # the inventory's path is not told to whoever asks
            raise UsageError(f"unknown target {target!r}: not in the inventory")
        name = module or host.modules[0]
        _check_module(name)
        if name not in host.modules:
            raise UsageError(
                f"module {name!r} is not enabled for target {target!r} "
                f"(enabled: {', '.join(host.modules)})"
            )
        return target, name

    async def probe(self, target: str, module: str | None, timeout: float) -> ProbeResult:
        target, name = self.resolve(target, module)
        host = self.targets[target]
        if not self.assigned(target):  # a misrouted scrape shows; no second SSH connection
            self.metrics.errors.labels(name, "not_assigned").inc()
            self.metrics.probes.labels(name, "failure").inc()
            owner = self._owners.get(target, "?")
            raise ProbeError(
                target, "not_assigned", f"probed by exporter {owner}, this is {self.replica}"
            )
        mod = self.module(name)
        # whatever was asked, at most the target's scrape interval (and MAX_TIMEOUT)
        timeout = min(timeout, max(MIN_TIMEOUT, min(host.scrape_interval_seconds, MAX_TIMEOUT)))
        skip = self.backoff.skip(target, name)
        if skip is not None:  # failing the same way again and again: not at full cost
            self.metrics.skipped.labels(name).inc()
            raise ProbeError(target, *skip)
        try:
            result = await self._probe_once(target, name, mod, host, timeout)
        except ProbeError as exc:
            interval = host.scrape_interval_seconds
            self.backoff.failed(target, name, exc.reason, exc.detail, interval)
            raise
        self.backoff.succeeded(target, name)
        return result

    async def _probe_once(
        self, target: str, name: str, mod: Module, host: Target, timeout: float
    ) -> ProbeResult:
        t0 = time.perf_counter()
        outer = asyncio.timeout(timeout + OUTER_GRACE)
        try:
            # the outer deadline covers everything, a wait for a pooled slot included
            async with outer:
                result = await mod.probe(host, timeout)
        except TimeoutError as exc:
            if not outer.expired():
                raise self._internal(target, name, exc) from None
            self.metrics.errors.labels(name, "timeout").inc()
            self.metrics.probes.labels(name, "failure").inc()
            raise ProbeError(target, "timeout", f"no answer within {timeout:g}s") from None
        except ProbeError as exc:
            self.metrics.errors.labels(name, exc.reason).inc()
            self.metrics.probes.labels(name, "failure").inc()
            raise
        except Exception as exc:  # a bug must cost one probe, never the server
            raise self._internal(target, name, exc) from None
        finally:
            self.metrics.duration.labels(name).observe(time.perf_counter() - t0)
        if result.down is not None:  # answered, with the success gauge 0
            self.metrics.errors.labels(name, result.down).inc()
            self.metrics.probes.labels(name, "failure").inc()
        else:
            self.metrics.probes.labels(name, "success").inc()
        for source in result.errors:
            # target: an inventory name (resolve() refused any other), so bounded
            self.metrics.collector_errors.labels(name, target, source).inc()
        return result

    def _internal(self, target: str, name: str, exc: BaseException) -> ProbeError:
        log.error("target %s: internal error in module %s", target, name, exc_info=exc)
        self.metrics.errors.labels(name, "internal").inc()
        self.metrics.probes.labels(name, "failure").inc()
        return ProbeError(target, "internal", f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        for mod in self._modules.values():
            await mod.close()
        if self._parse_workers is not None:
            await self._parse_workers.close()

    # HTTP -----------------------------------------------------------------------------------

    def app(self, web_config: WebConfig | None = None) -> web.Application:
        middlewares = []
        if web_config is not None and web_config.users:
            from fleetwatch.exporters.webconfig import basic_auth_middleware

            middlewares.append(basic_auth_middleware(web_config.users))
        app = web.Application(middlewares=middlewares)
        app.router.add_get("/", self._index)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/probe", self._probe, allow_head=False)  # HEAD must not probe
        app.router.add_get("/-/healthy", self._healthy)

        async def _cleanup(_: web.Application) -> None:
            await self.close()

        app.on_cleanup.append(_cleanup)
        return app

    async def _healthy(self, request: web.Request) -> web.Response:
        return web.Response(text="OK\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _probe(self, request: web.Request) -> web.Response:
        target = request.query.get("target", "")
        module = request.query.get("module") or None
        if not target:
            return web.Response(status=400, text="missing 'target' parameter\n")
        header = request.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
        timeout = probe_timeout(header)  # probe() caps it by the target's interval
        debug = request.query.get("debug", "").lower() in ("true", "1")
        t0 = time.perf_counter()
        try:
            result = await self.probe(target, module, timeout)
        except UsageError as exc:
            return web.Response(status=400, text=f"{exc}\n")
        except ProbeError as exc:
            log.warning("%s", exc)
            if debug:
                return web.Response(text=_debug(target, module, timeout, t0, exc))
            return web.Response(status=503, text=f"{exc}\n")
        if debug:
            return web.Response(text=_debug(target, module, timeout, t0, result))
        return web.Response(body=result.exposition(), headers={"Content-Type": CONTENT_TYPE})

    async def _index(self, request: web.Request) -> web.Response:
        if not self.list_targets:
            page = "<html><body><h1>fleetwatch exporter</h1><a href='/metrics'>/metrics</a>"
            return web.Response(text=page + "</body></html>", content_type="text/html")
        rows = "".join(
            f'<li><a href="/probe?target={html.escape(n)}&amp;module={html.escape(m)}">'
            f"{html.escape(n)} ({html.escape(m)})</a></li>"
            for n, h in sorted(self.targets.items())
            if self.assigned(n)
            for m in h.modules
        )
        page = (
            "<html><head><title>fleetwatch exporter</title></head><body>"
            "<h1>fleetwatch exporter</h1><p><a href='/metrics'>/metrics</a> (the exporter's own)"
            f"</p><h2>Targets</h2><ul>{rows}</ul></body></html>"
        )
        return web.Response(text=page, content_type="text/html")


def _debug(
    target: str, module: str | None, timeout: float, t0: float, outcome: ProbeResult | ProbeError
) -> str:
    """What ``/probe?debug=true`` answers (blackbox_exporter's form): what the probe did and
    why it failed, then the metrics it would have returned."""
    lines = ["Logs for the probe:"]
    lines.append(f"target={target} module={module or '(first of the target)'} timeout={timeout:g}s")
    if isinstance(outcome, ProbeError):
        lines.append(f"probe failed: reason={outcome.reason}: {outcome.detail}")
    else:
        if outcome.down is not None:
            lines.append(f"target down (answered with its success gauge 0): reason={outcome.down}")
        lines += [f"part failed: {part}: {why}" for part, why in sorted(outcome.errors.items())]
        lines += [f"no data on this target: {part}" for part in sorted(outcome.absent)]
    lines.append(f"duration={time.perf_counter() - t0:.3f}s")
    metrics = "" if isinstance(outcome, ProbeError) else outcome.exposition().decode()
    return "\n".join(lines) + "\n\nMetrics that would have been returned:\n" + metrics


async def serve(
    exporter: Exporter, host: str, port: int, web_config: WebConfig | None = None
) -> web.AppRunner:
    """Serve on host:port; ``web_config`` (``--web.config.file``) adds TLS and basic auth."""
    runner = web.AppRunner(exporter.app(web_config), access_log=None)
    await runner.setup()
    tls = web_config.tls if web_config is not None else None
    site = web.TCPSite(runner, host, port, backlog=1024, ssl_context=tls)
    await site.start()
    return runner


async def run_forever(
    exporter: Exporter, host: str, port: int, web_config: WebConfig | None = None
) -> None:
    runner = await serve(exporter, host, port, web_config)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
