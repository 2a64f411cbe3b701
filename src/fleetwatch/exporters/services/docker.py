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
client per address is kept across probes (``pool_size``).  ``ssh://`` does not use the SDK's
ssh support (SDK 7.1 imports paramiko for it even with ``use_ssh_client=True``, and its ssh pipe
has no read timeout): the module keeps one ``ssh -N -L <local socket>:<remote socket>`` process
per address (the OpenSSH client, ``BatchMode``: keys and known_hosts from the exporter user's
ssh config, or ``params.ssh_config``) and talks to the forwarded socket.  The remote user needs
access to the Engine socket (``docker`` group) and sshd must allow stream-local forwarding.

Failure follows the blackbox exporter: ``probe_success 0`` with the reason in
``ProbeResult.errors["docker"]`` when the Engine cannot be listed.  One container that fails
(inspect, stats, the deadline) only loses its own series: ``errors["inspect"]`` /
``errors["stats"]`` name it; a container removed during the probe is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any, TypeVar

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec
from fleetwatch.exporters.module import ProbeResult, Target
from fleetwatch.exporters.services import _cadvisor as cad
from fleetwatch.exporters.services._jsonclient import DURATION, SUCCESS, capped_timeout

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0,
                            "description": "Upper bound of one probe (the scrape deadline holds)."},
        "all": {"type": "boolean",
                "description": "Also list stopped containers (state, restarts; no usage series)."},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 64,
                        "description": "Containers read at the same time (default 32; see above)."},
        "ssh_config": {"type": "string", "minLength": 1,
                       "description": "ssh:// only: an ssh_config file for ssh (ssh -F)."},
        "remote_socket": {"type": "string", "pattern": "^/",
                          "description": "ssh:// only: the Engine socket on the remote host."},
    },
}  # fmt: skip

DEFAULT_CONCURRENCY = 32
DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"
#: threads shared by every docker target of one exporter
MAX_THREADS = 64
#: seconds kept back from the deadline to build the answer
MARGIN = 0.05
_RUNNING = frozenset({"running", "paused"})
T = TypeVar("T")


class EngineError(Exception):
    """The Engine endpoint failed in a way we name ourselves (``reason: detail``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Endpoint:
    kind: str  # unix, ssh, tcp
    base_url: str
    ssh: urllib.parse.SplitResult | None = None


def parse_address(address: str) -> Endpoint:
    """``unix:///p``, ``/p``, ``ssh://[user@]host[:port]``, ``tcp://host:port``."""
    addr = address.strip()
    if addr.startswith("/"):
        return Endpoint("unix", f"unix://{addr}")
    url = urllib.parse.urlsplit(addr)
    if url.scheme == "unix" and url.path.startswith("/"):
        return Endpoint("unix", f"unix://{url.path}")
    if url.scheme == "ssh" and url.hostname:
        return Endpoint("ssh", "", url)
    if url.scheme in {"tcp", "http"} and url.hostname:
        return Endpoint("tcp", f"tcp://{url.netloc}")
    raise EngineError(
        "config", f"not a Docker Engine address: {address!r} (unix://, ssh:// or tcp://)"
    )


def check_socket(endpoint: Endpoint, timeout: float) -> None:
    """Connect once with a socket we close.  The SDK's unix transport leaks its socket (a
    ResourceWarning) when ``connect()`` fails: a dead or forbidden socket must fail here."""
    if endpoint.kind == "unix":
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(endpoint.base_url[len("unix://") :])


class SshTunnel:
    """``ssh -N -L socket:remote`` in its own session; ready once the local socket exists."""

    def __init__(self, url: urllib.parse.SplitResult, remote: str, config: str | None) -> None:
        self.url, self.remote, self.config = url, remote, config
        self.dir = Path(tempfile.mkdtemp(prefix="fw-docker-"))  # 0700: only we reach the socket
        self.socket = self.dir / "s"
        self.log = self.dir / "ssh.log"
        self.target = f"{url.username + '@' if url.username else ''}{url.hostname}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, timeout: float) -> list[str]:
        argv = ["ssh", "-N", "-T", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"]
        argv += ["-o", "StreamLocalBindUnlink=yes", "-o", "ServerAliveInterval=15"]
        argv += ["-o", f"ConnectTimeout={max(1, math.ceil(timeout))}"]
        argv += ["-F", self.config] if self.config else []
        argv += ["-p", str(self.url.port)] if self.url.port else []
        argv += ["-l", self.url.username] if self.url.username else []
        return [*argv, "-L", f"{self.socket}:{self.remote}", "--", str(self.url.hostname)]

    def open(self, timeout: float) -> None:
        try:
            with open(self.log, "wb") as log:
                self.proc = subprocess.Popen(
                    self.command(timeout),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,  # a terminal's ^C must not reach it
                )
        except FileNotFoundError:
            raise EngineError("ssh", "the ssh client (OpenSSH) is not installed") from None
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None:
                detail = self.last_error() or f"ssh exited with status {self.proc.returncode}"
                raise EngineError("ssh", f"{self.target}: {detail}")
            if time.monotonic() > deadline:
                raise EngineError("timeout", f"ssh to {self.target}: no session in {timeout:g}s")
            time.sleep(0.02)

    def last_error(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log.read_text(errors="replace").strip().splitlines()
            return lines[-1][:200] if lines else ""
        return ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=2)
        shutil.rmtree(self.dir, ignore_errors=True)


@functools.lru_cache(maxsize=256)
def local_device_name(major: int, minor: int) -> str:
    """``/dev/<name>`` of a block device of this machine (cAdvisor's naming), else ``M:m``."""
    with contextlib.suppress(OSError):
        for line in Path(f"/sys/dev/block/{major}:{minor}/uevent").read_text().splitlines():
            if line.startswith("DEVNAME="):
                return f"/dev/{line[len('DEVNAME=') :]}"
    return cad.major_minor(major, minor)


class Engine:
    """One Engine connection: an SDK ``APIClient`` (and the ssh tunnel it goes through)."""

    def __init__(
        self, endpoint: Endpoint, ssh_config: str | None, remote: str, pool: int = 10
    ) -> None:
        self.endpoint = endpoint
        self.pool = pool  # idle connections kept: one per concurrent stats call
        self.tunnel = (
            SshTunnel(endpoint.ssh, remote, ssh_config) if endpoint.ssh is not None else None
        )
        self.api: Any = None
        self.layout = cad.CgroupLayout()
        self.device_name: cad.DeviceNamer = (
            local_device_name if endpoint.kind == "unix" else cad.major_minor
        )

    def open(self, timeout: float) -> None:
        import docker  # the SDK is imported on first use only

        base_url = self.endpoint.base_url
        try:
            if self.tunnel is not None:
                self.tunnel.open(timeout)
                base_url = f"unix://{self.tunnel.socket}"
            # The SDK's version="auto" asks in its constructor and leaks the socket when that
            # fails: ask with a client we hold (and close), then pin the server's version.
            self.api = self._client(docker, base_url, timeout, "1.24")
            answer = cad.as_object(self.api.version(api_version=False), "version")
            version = answer.get("ApiVersion")
            if not isinstance(version, str):
                raise ParseError("version", "no ApiVersion: not a Docker Engine")
            self.api.close()
            self.api = self._client(docker, base_url, timeout, version)
            self.layout = cad.CgroupLayout.from_info(self.api.info())
        except Exception as exc:
            tunnel, said = self.tunnel, ""
            if tunnel is not None and tunnel.alive:
                time.sleep(0.1)  # ssh logs a failed channel just after the reset
                said = tunnel.last_error()
            self.close()
            if tunnel is not None and said:  # "channel 1: open failed: connect failed: ..."
                raise EngineError("ssh", f"{tunnel.target}: {said}") from exc
            raise
        except BaseException:
            self.close()
            raise

    def _client(self, docker: Any, base_url: str, timeout: float, version: str) -> Any:
        api = docker.APIClient(
            base_url=base_url, timeout=timeout, version=version, max_pool_size=self.pool
        )
        api.trust_env = False  # as the other modules: no proxy from the environment
        return api

    @property
    def usable(self) -> bool:
        return self.api is not None and (self.tunnel is None or self.tunnel.alive)

    def one_shot(self) -> bool:
        from docker.utils import version_gte

        return bool(version_gte(self.api.api_version, "1.41"))

    def close(self) -> None:
        if self.api is not None:
            with contextlib.suppress(Exception):
                self.api.close()
        if self.tunnel is not None:
            self.tunnel.close()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and exceptions carried in ``args`` (urllib3)."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 20:
        item = todo.pop(0)
        if any(item is seen for seen in out):
            continue
        out.append(item)
        todo += [a for a in item.args if isinstance(a, BaseException)]
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return out


def _sdk_error(item: BaseException, name: str) -> bool:
    """``item`` is ``docker.errors.<name>`` (no SDK import: unimported, it raised nothing)."""
    errors = sys.modules.get("docker.errors")
    cls = getattr(errors, name, None) if errors is not None else None
    return isinstance(cls, type) and isinstance(item, cls)


def failure_reason(exc: BaseException, where: str = "") -> str:
    """A short ``reason: detail`` for ProbeResult.errors."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, EngineError):
            return str(item)
    for item in chain:
        if isinstance(item, TimeoutError) or type(item).__name__ in {"ReadTimeout", "Timeout"}:
            return "timeout: no complete answer within the probe deadline"
    at = f" {where}" if where else ""
    for item in chain:
        if isinstance(item, PermissionError):
            return f"permission: access to{at} denied (the exporter's user needs the docker group)"
        if isinstance(item, FileNotFoundError):
            return f"connect: no Engine socket at{at} (is dockerd running?)"
        if isinstance(item, ConnectionRefusedError):
            return f"connect: connection refused by{at}"
        if isinstance(item, json.JSONDecodeError):
            return "not_docker: the endpoint answers HTTP but not Engine API JSON"
        if isinstance(item, HTTPException):
            return f"not_http: the endpoint does not speak HTTP ({type(item).__name__})"
        if isinstance(item, ParseError):
            return f"bad_response: {item}"[:200]
        if _sdk_error(item, "APIError"):
            status = getattr(item, "status_code", None)
            detail = getattr(item, "explanation", None) or str(item)
            return f"api_error: HTTP {status}: {detail}"[:200]
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return f"connect: {item.strerror}"
    return f"internal: {type(exc).__name__}: {exc}"[:200]


class DockerModule:
    """The ``docker`` service module."""

    name = "docker"
    description = "Docker Engine API: per-container CPU, memory, network, I/O in cAdvisor names"

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

    async def probe(self, target: Target, timeout: float) -> ProbeResult:
        t0 = time.perf_counter()
        params: Mapping[str, Any] = getattr(target, "params", {}) or {}
        timeout = capped_timeout(params, timeout)
        deadline = time.monotonic() + timeout
        out, errors = Families(), {}
        opened: list[Engine] = []

        def listing() -> list[Any]:
            check_socket(parse_address(target.address), timeout)
            engine = self._engine(target.address, params, timeout)
            opened.append(engine)
            engine.api.timeout = timeout  # the socket timeout of this probe's calls
            entries = engine.api.containers(all=bool(params.get("all", False)))
            if not isinstance(entries, list):
                raise ParseError("containers", "expected a list")
            return entries

        try:
            entries = await asyncio.wait_for(self._run(listing), timeout)
        except Exception as exc:  # the Engine as a whole failed: probe_success 0
            errors["docker"] = failure_reason(exc, target.address)
            for engine in opened:
                self._drop(engine)  # reconnect next time (a restarted daemon, a dead tunnel)
            out.add(SUCCESS, 0.0)
        else:
            await self._containers(opened[0], entries, params, deadline, out, errors)
            out.add(SUCCESS, 1.0)
        out.add(DURATION, time.perf_counter() - t0)
        return ProbeResult(out, errors)

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
                    if not _sdk_error(exc, "NotFound"):  # removed since the listing: skipped
                        problems.setdefault("inspect", []).append(f"{name}: {failure_reason(exc)}")
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
            _, pending = await asyncio.wait(jobs, timeout=wait)
            for task in pending:
                task.cancel()
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
        cad.add_state(part, labels, entry, doc)
        has_quota = cad.add_spec(part, labels, doc)
    except ParseError as exc:
        return [("inspect", f"bad_response: {exc}")]
    out.merge(part)
    if isinstance(stats, BaseException):
        if not _sdk_error(stats, "NotFound"):
            failures.append(("stats", failure_reason(stats)))
    elif stats is not None:
        try:
            doc = cad.as_object(stats, "stats")
            if cad.parse_time(doc.get("read"), "read") is not None:  # zero: it just stopped
                usage = Families()
                cad.add_usage(
                    usage, labels, doc, has_quota=has_quota, now=now, device_name=engine.device_name
                )
                out.merge(usage)
        except ParseError as exc:
            failures.append(("stats", f"bad_response: {exc}"))
    return failures


def _concurrency(params: Mapping[str, Any]) -> int:
    value = params.get("concurrency")
    return value if isinstance(value, int) and 0 < value <= MAX_THREADS else DEFAULT_CONCURRENCY


def _entry_name(entry: Mapping[str, Any]) -> str:
    names = entry.get("Names")
    if isinstance(names, list) and names and isinstance(names[0], str):
        return names[0].lstrip("/")
    return str(entry.get("Id", "?"))[:12]
