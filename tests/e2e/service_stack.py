"""A monitored fleet of real services for end-to-end dashboard tests.

``ServiceStack`` starts redis-server, PostgreSQL and ganache (the server classes of
``tests/exporters/services``), when it can a dockerd with two Compose containers and a Mosquitto
broker, stand-ins for what cannot run here (two CometBFT RPCs serving the v0.38 documented JSON
with a moving height, an HTTP and an HTTPS health endpoint), writes an inventory declaring them
as services (plus this machine as a ``local`` host), runs ``fleetwatch
build`` on the repository's content, then starts the fleetwatch exporter and a Prometheus on the
build's ``prometheus.yml`` (so the build's rule files are evaluated too).  Everything listens on
free loopback ports and is stopped by ``close()``.  ``run_query`` runs a panel query as
Grafana would (template variables: ``e2e/grafana_sim.py``).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from exporters.services.docker_fixtures import IMAGE, Dockerd, import_busybox
from exporters.services.mqtt_fixtures import Mosquitto
from exporters.services.test_cometbft import NET_INFO, STATUS, UNCONFIRMED
from servers import (
    FleetwatchExporter,
    Prometheus,
    free_port,
    missing_prerequisites,
    require,
)
from service_servers import (
    GANACHE,
    PG_BIN,
    Ganache,
    Postgres,
    RedisServer,
    self_signed_cert,
)

ROOT = Path(__file__).resolve().parents[2]
CHAIN_ID = "fleetwatch-e2e-1"
COMETBFT_NODES = {"val-1": 0, "val-2": 3}
"""CometBFT stand-in nodes and how many blocks each trails the chain's head."""
QUEUE_KEYS = ["bull:email:wait", "rq:queue:default"]
DOCKER_NEEDS = ("dockerd", "/usr/bin/docker", "runc", "/bin/busybox")
MQTT_NEEDS = ("mosquitto", "mosquitto_sub")


def prerequisites() -> None:
    """Skip (or fail in CI) when a server of the stack cannot be started here; dockerd
    (root) and mosquitto are optional: without them the stack has no docker / mqtt target."""
    require("redis-server", "redis-cli", "prometheus", "promtool", "openssl", str(GANACHE))
    require("runuser", str(PG_BIN / "initdb"), str(PG_BIN / "pg_isready"), users=["postgres"])


def can_run_docker() -> bool:
    return not missing_prerequisites(DOCKER_NEEDS, root=True)


def can_run_mqtt() -> bool:
    return not missing_prerequisites(MQTT_NEEDS)


# --------------------------------------------------------------------------------------------
# stand-ins: CometBFT RPC and health endpoints, one threaded HTTP server each
# --------------------------------------------------------------------------------------------


def rfc3339(t: float) -> str:
    """Go's RFC 3339 with nanoseconds, as CometBFT prints ``latest_block_time``."""
    whole = datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{int((t % 1) * 1e9):09d}Z"


class Chain:
    """A CometBFT chain producing one block per second from ``start``."""

    def __init__(self, chain_id: str, start_height: int = 1_000) -> None:
        self.chain_id = chain_id
        self.start_height = start_height
        self.born = time.time()

    def head(self) -> tuple[int, float]:
        """(height, time of that block) now."""
        elapsed = int(time.time() - self.born)
        return self.start_height + elapsed, self.born + elapsed

    def status(self, node: str, behind: int) -> dict[str, Any]:
        height, block_time = self.head()
        doc = copy.deepcopy(STATUS)
        result = doc["result"]
        result["node_info"]["network"] = self.chain_id
        result["node_info"]["moniker"] = node
        result["sync_info"]["latest_block_height"] = str(height - behind)
        result["sync_info"]["latest_block_time"] = rfc3339(block_time - behind)
        result["sync_info"]["catching_up"] = False
        result["validator_info"]["voting_power"] = "10" if node == "val-1" else "0"
        return doc


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def do_GET(self) -> None:
        status, doc = self.server.answer(self.path)
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: probes every second would flood the test output."""


class StandIn(ThreadingHTTPServer):
    """``/health`` (InfluxDB's healthy answer) and ``/<node>/{status,net_info,
    num_unconfirmed_txs}`` of the CometBFT nodes, served from a daemon thread."""

    daemon_threads = True

    def __init__(self, chain: Chain, tls: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.chain = chain
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(path).path.strip("/").split("/")
        if parts == ["health"]:
            return 200, {"name": "influxdb", "status": "pass", "message": "ready for queries"}
        if len(parts) == 2 and parts[0] in COMETBFT_NODES:
            node, call = parts
            if call == "status":
                return 200, self.chain.status(node, COMETBFT_NODES[node])
            if call == "net_info":
                return 200, NET_INFO
            if call == "num_unconfirmed_txs":
                return 200, UNCONFIRMED
        return 404, {"error": f"no {path}"}

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def self_signed(workdir: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (valid 30 days)."""
    crt, key = self_signed_cert(workdir)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    return ctx


# --------------------------------------------------------------------------------------------
# the stack
# --------------------------------------------------------------------------------------------


def inventory(stack: ServiceStack) -> str:
    """Every service of the stack, scraped each second, in one deployment with this host."""
    assert stack.redis and stack.postgres and stack.ganache and stack.web and stack.tls
    keys = ", ".join(json.dumps(k) for k in QUEUE_KEYS)
    cometbft = "\n".join(
        f"      - {{name: {node}, module: cometbft, address: '{stack.web.url}/{node}'}}"
        for node in COMETBFT_NODES
    )
    optional = ""
    if stack.dockerd is not None:
        # dockerd answers stats from a collector that runs once a second: a 1 s scrape (0.5 s
        # deadline) would miss most of them, as it would with cAdvisor's usual 15 s+ intervals
        optional += (
            f"      - {{name: dock, module: docker, address: '{stack.dockerd.address}',"
            " scrape_interval: 3s}\n"
        )
    if stack.mosquitto is not None:
        optional += (
            f"      - {{name: broker, module: mqtt, address: '{stack.mosquitto.address}'}}\n"
        )
    return f"""
version: 1
defaults:
  scrape_interval: 1s
stack:
  exporter: "127.0.0.1:{stack.exporter_port}"
  prometheus_url: "http://127.0.0.1:{stack.prometheus_port}"
deployments:
  - name: platform
    provider: loopback
    hosts:
      - {{name: here, address: localhost, modules: [local]}}
    services:
      - {{name: db, module: postgres, address: "{stack.postgres.address}",
         params: {{user: postgres}}}}
      - {{name: cache, module: redis, address: "{stack.redis.address}",
         params: {{check_keys: [{keys}]}}}}
      - {{name: api, module: http, address: "{stack.web.url}/health", params: {{health: true}},
         depends_on: [db, cache]}}
      - {{name: api-tls, module: http, address: "{stack.tls.url}/health",
         params: {{health: true, insecure_skip_verify: true}}}}
      - {{name: geth, module: ethereum, address: "{stack.ganache.url}"}}
{cometbft}
{optional}"""


def _seed_redis(redis: RedisServer) -> None:
    """A maxmemory (so memory vs max has a max), queue keys and a few hits and misses."""
    redis.cli("CONFIG", "SET", "maxmemory", "256mb")
    for key in QUEUE_KEYS:
        redis.cli("RPUSH", key, "job-1", "job-2", "job-3")
    redis.cli("SET", "counter", "1")
    redis.cli("GET", "counter")
    redis.cli("GET", "missing")


def _seed_postgres(postgres: Postgres) -> None:
    postgres.psql("CREATE DATABASE app")
    postgres.psql(
        "CREATE TABLE jobs (id serial PRIMARY KEY, state text);"
        "INSERT INTO jobs (state) SELECT 'done' FROM generate_series(1, 100);"
        "UPDATE jobs SET state = 'archived' WHERE id < 10; DELETE FROM jobs WHERE id < 5;",
        db="app",
    )


def _start_docker(dockerd: Dockerd) -> None:
    """dockerd with two Compose-labelled containers on a user network: shop/web busy against
    its CPU quota (throttled), shop/worker OOM-killed in a loop by its restart policy."""
    dockerd.start()
    import_busybox(dockerd)
    dockerd.cli("network", "create", "fwnet")
    compose = ["--network", "fwnet", "--label", "com.docker.compose.project=shop"]
    dockerd.cli(
        "run", "-d", "--name", "shop-web-1", *compose, "--label", "com.docker.compose.service=web",
        "--cpus", "0.5", "--memory", "64m", IMAGE, "sh", "-c", "while :; do :; done",
    )  # fmt: skip
    dockerd.cli(
        "run", "-d", "--name", "shop-worker-1", *compose,
        "--label", "com.docker.compose.service=worker", "--restart", "always", "--memory", "16m",
        IMAGE, "sh", "-c", "sleep 1; head -c 200m /dev/zero | tail > /dev/null",
    )  # fmt: skip


class ServiceStack:
    """Start with ``start()``, stop with ``close()`` (both idempotent enough for fixtures)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.build = workdir / "build"
        self.exporter_port = free_port()
        self.prometheus_port = free_port()
        self.chain = Chain(CHAIN_ID)
        self.redis: RedisServer | None = None
        self.postgres: Postgres | None = None
        self.ganache: Ganache | None = None
        self.web: StandIn | None = None
        self.tls: StandIn | None = None
        self.dockerd: Dockerd | None = None
        self.mosquitto: Mosquitto | None = None
        self.exporter: FleetwatchExporter | None = None
        self.prometheus: Prometheus | None = None
        self.timings: dict[str, float] = {}
        self._closers: list[Callable[[], None]] = []

    def _timed(self, what: str, start: Callable[[], Any]) -> Any:
        began = time.monotonic()
        result = start()
        self.timings[what] = time.monotonic() - began
        return result

    def start(self) -> ServiceStack:
        self.web = StandIn(self.chain).start()
        self._closers.append(self.web.close)
        self.tls = StandIn(self.chain, self_signed(self.workdir)).start()
        self._closers.append(self.tls.close)
        self.redis, self.postgres, self.ganache = RedisServer(), Postgres(), Ganache()
        self._closers += [self.redis.close, self.postgres.close, self.ganache.close]
        starts: dict[str, Callable[[], Any]] = {
            "redis": self.redis.start,
            "postgres": self.postgres.start_db,
            "ganache": self.ganache.start,
        }
        if can_run_docker():
            self.dockerd = Dockerd()
            self._closers.append(self.dockerd.close)
            starts["docker"] = functools.partial(_start_docker, self.dockerd)
        if can_run_mqtt():
            self.mosquitto = Mosquitto()
            self._closers.append(self.mosquitto.close)
            starts["mosquitto"] = self.mosquitto.start
        # the real servers start concurrently: PostgreSQL's initdb and ganache dominate
        with ThreadPoolExecutor(max_workers=len(starts)) as pool:
            jobs = [pool.submit(self._timed, what, start) for what, start in starts.items()]
            for job in jobs:
                job.result()
        _seed_redis(self.redis)
        _seed_postgres(self.postgres)
        text = inventory(self)
        (self.workdir / "fleet.yaml").write_text(text)
        self._timed("build", self._build)
        self.exporter = FleetwatchExporter(
            text, port=self.exporter_port, workdir=self.workdir / "exporter"
        )
        self._closers.append(self.exporter.close)
        self._timed("exporter", self.exporter.start)
        config = (self.build / "prometheus" / "prometheus.yml").read_text()
        self.prometheus = Prometheus(
            config, port=self.prometheus_port, workdir=self.build / "prometheus"
        )
        self._closers.append(self.prometheus.close)
        self._timed("prometheus", self.prometheus.start)
        return self

    def _build(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "fleetwatch", "build", "--inventory",
             str(self.workdir / "fleet.yaml"), "--content", str(ROOT), "-o", str(self.build)],
            cwd=self.workdir, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"fleetwatch build failed:\n{done.stdout}{done.stderr}")

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            with contextlib.suppress(Exception):
                closer()

    @property
    def prom(self) -> Prometheus:
        assert self.prometheus is not None
        return self.prometheus

    def services(self) -> set[str]:
        """The service targets of the inventory (the ``instance`` label of their series)."""
        names = {"db", "cache", "api", "api-tls", "geth", *COMETBFT_NODES}
        if self.dockerd is not None:
            names.add("dock")
        if self.mosquitto is not None:
            names.add("broker")
        return names

    def dashboards(self, folder: str = "services") -> list[Path]:
        return sorted((self.build / "grafana" / "dashboards" / folder).glob("*.json"))


# --------------------------------------------------------------------------------------------
# panel queries as Grafana runs them
# --------------------------------------------------------------------------------------------


def run_query(prom: Prometheus, expr: str, instant: bool, span: float) -> list[dict[str, Any]]:
    """The result of a panel query: instant at now, or over ``span`` seconds ending now (the
    last step falls on now, where the freshly started stack has its data)."""
    if instant:
        return prom.query(expr)
    end = time.time()
    step = max(1.0, span / 200)
    params = {"query": expr, "start": str(end - 200 * step), "end": str(end), "step": str(step)}
    result: list[dict[str, Any]] = prom.api("query_range", params)["result"]
    return result


@dataclass(frozen=True)
class PanelData:
    """What a dashboard's panel queries returned: how many ran, which came back empty."""

    panels: int
    queried: int
    empty: list[str]

    def line(self, name: str) -> str:
        return (
            f"{name}: {self.queried - len(self.empty)} of {self.queried} panel queries return data"
        )


def panel_data(prom: Prometheus, dashboard: dict[str, Any], span: float = 3600) -> PanelData:
    """Every panel query of ``dashboard`` (hidden ones aside) with its template variables
    resolved as Grafana would, run over ``span`` seconds (instant ones at now)."""
    from e2e.grafana_sim import Grafana, panels

    grafana = Grafana(prom.query, dashboard)
    data_panels = [p for p in panels(dashboard.get("panels", [])) if p.get("targets")]
    empty: list[str] = []
    queried = 0
    for panel in data_panels:
        for target in panel["targets"]:
            if "expr" not in target or target.get("hide"):
                continue
            expr = grafana.substitute(target["expr"])
            assert "$" not in expr, f"{panel.get('title')!r}: unresolved variable in {expr}"
            queried += 1
            if not run_query(prom, expr, bool(target.get("instant")), span):
                empty.append(f"{panel.get('title')!r} {target['refId']}: {expr}")
    return PanelData(len(data_panels), queried, empty)
