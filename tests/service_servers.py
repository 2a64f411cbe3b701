"""Real service servers the tests and benchmarks start: redis-server, PostgreSQL, ganache,
and the standard exporters (redis_exporter, postgres_exporter, blackbox) next to them.

Each runs on a free loopback port in its own process group and is stopped by PID
(``servers.Server``).  PostgreSQL runs as the ``postgres`` user (it refuses root).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from fleetwatch.exporters.module import Module, ProbeResult
from fleetwatch.inventory import Service
from servers import LoopbackServer, http_get, port_open

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
GANACHE = ROOT / ".node" / "node_modules" / ".bin" / "ganache"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1 (openssl), valid 30 days."""
    crt, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return crt, key


def service_target(
    module: str, address: str, name: str, deployment: str = "test", **params: Any
) -> Service:
    """An inventory service as the loader would build it (15 s interval, no labels)."""
    return Service(
        name=name,
        module=module,
        address=address,
        deployment=deployment,
        provider="loopback",
        labels={},
        scrape_interval_seconds=15.0,
        scrape_interval="15s",
        params=params,
    )


async def probe_once(module: Module, target: Service, timeout: float) -> ProbeResult:
    """One probe with a module of its own, closed afterwards."""
    try:
        return await module.probe(target, timeout)
    finally:
        await module.close()


def rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    """One JSON-RPC call; the result, or None on an error answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with _NO_PROXY.open(req, timeout=5) as resp:
        return json.loads(resp.read()).get("result")


class RedisServer(LoopbackServer):
    name = "redis-server"

    def __init__(self, password: str | None = None) -> None:
        super().__init__()
        self.password = password

    def command(self) -> list[str]:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        return argv

    def cli(self, *args: str) -> str:
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *auth, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout

    def is_ready(self) -> bool:
        return port_open("127.0.0.1", self.port) and self.cli("PING").strip() == "PONG"


class HttpExporter(LoopbackServer):
    """A standard exporter binary on a free port: ready when /metrics answers (``url``)."""

    url_path = ready_path = "/metrics"

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        listen_flag: str = "--web.listen-address",
    ) -> None:
        super().__init__(name)
        self.argv = argv
        self.env = env or {}
        self.listen_flag = listen_flag

    def start_exporter(self) -> HttpExporter:
        self.start([*self.argv, f"{self.listen_flag}={self.address}"], env=self.env)
        return self

    def metrics(self) -> str:
        status, body = http_get(self.url, timeout=10)
        assert status == 200, body[:300]
        return body.decode()


class Postgres(LoopbackServer):
    """initdb into a temp dir as ``postgres`` (md5 for TCP, trust on the socket), pg_ctl start."""

    name = "postgres"

    def __init__(self) -> None:
        super().__init__()
        os.chmod(self.workdir, 0o755)
        shutil.chown(self.workdir, "postgres")
        self.data = self.workdir / "data"
        self.sock = self.workdir / "sock"

    def _run(self, *argv: str) -> str:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd="/tmp",
        ).stdout

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self._run(
            str(PG_BIN / "psql"), "-h", str(self.sock), "-p", str(self.port), "-U", "postgres",
            "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql,
        )  # fmt: skip

    def start_db(self) -> Postgres:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")
        hba = self.data / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        self.sock.mkdir()
        shutil.chown(self.sock, "postgres")
        # postgres in the foreground, as the unprivileged user, in its own process group
        argv = [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        argv += ["-c", "listen_addresses=127.0.0.1", "-k", str(self.sock)]
        self.start(argv, user="postgres", cwd="/tmp", timeout=60)
        return self

    def stop(self, grace: float = 5.0) -> int | None:
        """Fast shutdown (SIGTERM would wait for clients), then the group as a backstop."""
        if self.alive and self.pid:
            os.kill(self.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                if self._proc is not None:
                    self._proc.wait(timeout=15)
        return super().stop(grace)

    def is_ready(self) -> bool:
        done = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
            timeout=5,
        )
        return done.returncode == 0


class Ganache(LoopbackServer):
    name = "ganache"
    start_timeout = 60.0

    def command(self) -> list[str]:
        return [
            str(GANACHE),
            "--server.host", "127.0.0.1", "--server.port", str(self.port),
            "--miner.blockTime", "1", "--chain.chainId", "1337", "--wallet.deterministic",
        ]  # fmt: skip

    def is_ready(self) -> bool:
        return self.alive and isinstance(rpc(self.url, "eth_blockNumber"), str)


BLACKBOX = "prometheus-blackbox-exporter"


class Blackbox(LoopbackServer):
    name = "blackbox"
    ready_path = "/metrics"

    def prepare(self) -> None:
        (self.workdir / "blackbox.yml").write_text(
            "modules:\n"
            "  http_2xx:\n    prober: http\n"
            "  https_insecure:\n    prober: http\n    http:\n"
            "      tls_config:\n        insecure_skip_verify: true\n"
        )

    def command(self) -> list[str]:
        return [
            BLACKBOX,
            f"--config.file={self.workdir / 'blackbox.yml'}",
            f"--web.listen-address={self.address}",
        ]

    def probe(self, target: str, module: str) -> str:
        status, body = http_get(f"{self.url}/probe?module={module}&target={target}", timeout=10)
        assert status == 200
        return body.decode()
