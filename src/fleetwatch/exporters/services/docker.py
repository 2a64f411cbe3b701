"""docker: a Docker Engine's containers in cAdvisor's names, through the Engine API.

``Service.address`` is the Engine endpoint: ``unix:///var/run/docker.sock`` (or a bare socket
path), ``ssh://user@host[:port]`` for a remote container host, or ``tcp://host:2375`` (no TLS).
One probe lists the containers (``GET /containers/json``), then per container inspects it and
reads one stats sample (``stats?stream=0&one-shot=1``: no ``precpu_stats``, which the cumulative
counters do not need).  dockerd (20.10, measured) answers stats from its collector, which runs
once a second: requests that wait together are served in the same round, one after another each
cost a second.  So every container is read at the same time (``params.concurrency``, default
32: a probe of N running containers takes about ceil(N / concurrency) seconds)::

    probe_success 1
    container_cpu_usage_seconds_total{cpu="total",id="/docker/3f2a…",image="shop/web:1.4",
        name="shop-web-1",container_label_com_docker_compose_project="shop",
        container_label_com_docker_compose_service="web"} 1843.2      (labels wrapped here)
    container_memory_working_set_bytes{id="/docker/3f2a…",...} 1.2e+08
    container_spec_memory_limit_bytes{id="/docker/3f2a…",...} 2.68435456e+08
    container_network_receive_bytes_total{id="/docker/3f2a…",interface="eth0",...} 8.1e+07
    fleetwatch_container_restarts_total{id="/docker/3f2a…",...} 3
    fleetwatch_container_state{id="/docker/3f2a…",state="running",...} 1

The families, their labels and how the Engine's JSON maps onto them: ``_cadvisor.py``.

Transport: the Docker SDK (``docker`` 7.1), imported on first probe, synchronous, so its calls
run in the module's own bounded thread pool with the probe's timeout as socket timeout.  One
client per address is kept across probes (``pool_size``).  ``ssh://`` goes through one
``ssh -N -L`` tunnel per address (the OpenSSH client, ``BatchMode``: keys and known_hosts from the
exporter user's ssh config, or ``params.ssh_config``), not the SDK's ssh support.  The remote user
needs access to the Engine socket (``docker`` group) and sshd must allow stream-local forwarding.
The client, the tunnel and how failures become reasons: ``_docker_engine.py``.

Failure follows the blackbox exporter (``services/base.py``): ``probe_success 0`` with the reason
in ``ProbeResult.errors["docker"]`` when the Engine cannot be listed.  One container that fails
(inspect, stats, the deadline) only loses its own series: ``errors["inspect"]`` /
``errors["stats"]`` name it; a container removed during the probe is skipped.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec
from fleetwatch.exporters.services import _cadvisor as cad
from fleetwatch.exporters.services._docker_engine import (
    Engine,
    EngineError,
    check_socket,
    classify,
    parse_address,
    sdk_error,
)
from fleetwatch.exporters.services.base import (
    DURATION,
    SUCCESS,
    Probe,
    ServiceDown,
    ServiceModule,
    params_schema,
)

__all__ = ["PARAMS_SCHEMA", "DockerModule", "EngineError", "classify", "parse_address"]

PARAMS_SCHEMA: dict[str, Any] = params_schema("docker")

DEFAULT_CONCURRENCY = 32
DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"
#: threads shared by every docker target of one exporter
MAX_THREADS = 64
#: seconds kept back from the deadline to build the answer
MARGIN = 0.05
_RUNNING = frozenset({"running", "paused"})
T = TypeVar("T")


class DockerModule(ServiceModule):
    """The ``docker`` service module."""

    name = "docker"
    description = "Docker Engine API: per-container CPU, memory, network, I/O in cAdvisor names"
    grace = 0.5  # the listing and every container keep the deadline themselves

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str, str], Engine] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._closes = 0  # an open that ends after close() must not refill the pool

    def specs(self) -> list[Spec]:
        return [SUCCESS, DURATION, *cad.SPECS]

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="fw-docker")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _engine(self, address: str, params: Mapping[str, Any], timeout: float) -> Engine:
        """The pooled Engine for ``address``, opened (again) here, in a worker thread."""
        ssh_config = str(params.get("ssh_config") or "")
        remote = str(params.get("remote_socket") or DEFAULT_REMOTE_SOCKET)
        key = (address, ssh_config, remote)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise EngineError("timeout", "another probe is still connecting to this Engine")
        closes = self._closes
        try:
            with self._guard:
                engine = self._engines.pop(key, None)
            if engine is not None and not engine.usable:
                engine.close()  # its ssh tunnel died: reconnect
                engine = None
            if engine is None:
                pool = _concurrency(params)
                engine = Engine(parse_address(address), ssh_config or None, remote, pool)
                engine.open(timeout)
            with self._guard:
                if closes == self._closes:
                    self._engines[key] = engine
                    return engine
            engine.close()
            raise EngineError("internal", "the module was closed during the probe")
        finally:
            lock.release()

    def _drop(self, engine: Engine) -> None:
        with self._guard:
            for key, value in list(self._engines.items()):
                if value is engine:
                    del self._engines[key]
        engine.close()

    async def collect(self, probe: Probe) -> None:
        params, timeout, address = probe.params, probe.timeout, probe.address
        opened: list[Engine] = []

        def listing() -> list[Any]:
            check_socket(parse_address(address), timeout)
            engine = self._engine(address, params, timeout)
            opened.append(engine)
            engine.api.timeout = timeout  # the socket timeout of this probe's calls
            entries = engine.api.containers(all=bool(params.get("all", False)))
            if not isinstance(entries, list):
                raise ParseError("containers", "expected a list")
            return entries

        try:
            entries = await asyncio.wait_for(self._run(listing), timeout)
        except Exception:  # the Engine as a whole failed: probe_success 0
            for engine in opened:
                self._drop(engine)  # reconnect next time (a restarted daemon, a dead tunnel)
            raise
        await self._containers(opened[0], entries, params, probe.deadline, probe.out, probe.errors)

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        return classify(exc, probe.address)

    async def _containers(
        self,
        engine: Engine,
        entries: list[Any],
        params: Mapping[str, Any],
        deadline: float,
        out: Families,
        errors: dict[str, str],
    ) -> None:
        gate = asyncio.Semaphore(_concurrency(params))
        one_shot = engine.one_shot()
        problems: dict[str, list[str]] = {}
        now = time.time()

        def fetch(ident: str, running: bool) -> tuple[Any, Any]:
            inspect = engine.api.inspect_container(ident)
            if not running:
                return inspect, None
            try:
                if one_shot:
                    return inspect, engine.api.stats(ident, stream=False, one_shot=True)
                return inspect, engine.api.stats(ident, stream=False)  # Engine < 20.10: ~2 s
            except Exception as exc:
                return inspect, exc

        async def one(entry: Mapping[str, Any], name: str) -> None:
            running = str(entry.get("State", "")).lower() in _RUNNING
            async with gate:
                try:
                    inspect, stats = await self._run(
                        functools.partial(fetch, str(entry["Id"]), running)
                    )
                except Exception as exc:
                    if not sdk_error(exc, "NotFound"):  # removed since the listing: skipped
                        problems.setdefault("inspect", []).append(f"{name}: {_reason(exc)}")
                    return
            for source, failure in _emit(out, engine, entry, inspect, stats, now):
                problems.setdefault(source, []).append(f"{name}: {failure}")

        jobs = {
            asyncio.create_task(one(e, _entry_name(e))): _entry_name(e)
            for e in entries
            if isinstance(e, Mapping) and isinstance(e.get("Id"), str)
        }
        if jobs:
            wait = max(deadline - time.monotonic() - MARGIN, 0.01)
            done, pending = await asyncio.wait(jobs, timeout=wait)
            for task in pending:
                task.cancel()
            for task in done:
                task.result()  # a bug in one container's part is the probe's (a 503)
            if pending:
                late = ", ".join(sorted(jobs[t] for t in pending))
                problems.setdefault("stats", []).append(f"{late}: timeout")
        for source, lines in problems.items():
            errors[source] = f"{len(lines)} container(s): " + "; ".join(lines)[:400]

    async def close(self) -> None:
        with self._guard:
            engines, self._engines = list(self._engines.values()), {}
            self._closes += 1
        for engine in engines:
            engine.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def pool_size(self) -> int:
        return len(self._engines)


def _emit(
    out: Families, engine: Engine, entry: Mapping[str, Any], inspect: Any, stats: Any, now: float
) -> list[tuple[str, str]]:
    """One container's series (each part whole or not at all); returns (source, failure)s."""
    failures: list[tuple[str, str]] = []
    try:
        doc = cad.as_object(inspect, "inspect")
        labels = cad.container_labels(entry, doc, engine.layout)
        part = Families()
        cad.add_state(part, labels, entry, doc, now=now)
        has_quota = cad.add_spec(part, labels, doc)
    except ParseError as exc:
        return [("inspect", f"bad_response: {exc}")]
    out.merge(part)
    if isinstance(stats, BaseException):
        if not sdk_error(stats, "NotFound"):
            failures.append(("stats", _reason(stats)))
    elif stats is not None:
        try:
            doc = cad.as_object(stats, "stats")
            if cad.parse_time(doc.get("read"), "read") is not None:  # zero: it just stopped
                usage = Families()
                device_name = engine.device_name
                cad.add_usage(usage, labels, doc, has_quota=has_quota, device_name=device_name)
                out.merge(usage)
        except ParseError as exc:
            failures.append(("stats", f"bad_response: {exc}"))
    return failures


def _reason(exc: BaseException) -> str:
    """A container's failure as ``reason: detail``; anything not the Engine's is raised."""
    down = classify(exc)
    if down is None:
        raise exc
    return str(down)


def _concurrency(params: Mapping[str, Any]) -> int:
    value = params.get("concurrency")
    return value if isinstance(value, int) and 0 < value <= MAX_THREADS else DEFAULT_CONCURRENCY


def _entry_name(entry: Mapping[str, Any]) -> str:
    names = entry.get("Names")
    if isinstance(names, list) and names and isinstance(names[0], str):
        return names[0].lstrip("/")
    return str(entry.get("Id", "?"))[:12]
