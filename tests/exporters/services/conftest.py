"""Session fixtures: a real redis-server and PostgreSQL, and the standard exporters against them.

Every server runs on a free loopback port in its own process group and is stopped by PID
(tests/servers.py).  PostgreSQL runs as the ``postgres`` user (it refuses root).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetwatch.inventory import Service
from servers import Server, free_port, http_get, http_ok, port_open, require

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PASSWORD = "s3cret-fw"
REDIS_PASSWORD = "redis-pw-fw"
REDIS_CHECK_KEYS = ["bull:email:wait", "rq:queue:default", "3:celery", "counter", "nokey"]
"""fleetwatch's check_keys; the same keys in redis_exporter's syntax below."""
REDIS_CHECK_KEYS_FLAG = "bull:email:wait,rq:queue:default,db3=celery,counter,nokey"


class RedisServer(Server):
    name = "redis-server"

    def __init__(self, password: str | None = None) -> None:
        super().__init__()
        self.port = free_port()
        self.password = password

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

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


class HttpExporter(Server):
    """A standard exporter binary on a free port: ready when /metrics answers."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        listen_flag: str = "--web.listen-address",
    ) -> None:
        super().__init__(name)
        self.port = free_port()
        self.argv = argv
        self.env = env or {}
        self.listen_flag = listen_flag

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def start_exporter(self) -> HttpExporter:
        self.start([*self.argv, f"{self.listen_flag}=127.0.0.1:{self.port}"], env=self.env)
        return self

    def is_ready(self) -> bool:
        return http_ok(self.url)

    def metrics(self) -> str:
        status, body = http_get(self.url, timeout=10)
        assert status == 200, body[:300]
        return body.decode()


class Postgres(Server):
    """initdb into a temp dir as ``postgres`` (md5 for TCP, trust on the socket), pg_ctl start."""

    name = "postgres"

    def __init__(self) -> None:
        super().__init__()
        os.chmod(self.workdir, 0o755)
        shutil.chown(self.workdir, "postgres")
        self.port = free_port()
        self.data = self.workdir / "data"
        self.sock = self.workdir / "sock"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    require("redis-server", "redis-cli")
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_auth_server() -> Iterator[RedisServer]:
    require("redis-server", "redis-cli")
    with RedisServer(password=REDIS_PASSWORD) as server:
        yield server


@pytest.fixture(scope="session")
def redis_exporter(redis_server: RedisServer) -> Iterator[HttpExporter]:
    require("prometheus-redis-exporter")
    exporter = HttpExporter(
        "redis_exporter",
        [
            "prometheus-redis-exporter",
            f"-redis.addr=redis://{redis_server.address}",
            f"-check-keys={REDIS_CHECK_KEYS_FLAG}",
        ],
        listen_flag="-web.listen-address",
    )
    try:
        exporter.start_exporter()
        yield exporter
    finally:
        exporter.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    require("runuser", str(PG_BIN / "initdb"), str(PG_BIN / "pg_isready"), users=["postgres"])
    server = Postgres()
    try:
        server.start_db()
        server.psql(f"CREATE ROLE fwuser LOGIN PASSWORD '{PG_PASSWORD}'")
        server.psql("CREATE DATABASE app OWNER fwuser")
        server.psql(
            "CREATE TABLE tenants (id serial, status text);"
            "INSERT INTO tenants (status) VALUES ('active'), ('active'), ('trial');"
            "GRANT SELECT ON tenants TO fwuser",
            db="app",
        )
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_exporter(postgres: Postgres) -> Iterator[HttpExporter]:
    require("prometheus-postgres-exporter")
    queries = postgres.workdir / "queries.yaml"
    queries.write_text(
        "pg_replication:\n"
        '  query: "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 ELSE GREATEST (0, EXTRACT'
        '(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) END AS lag"\n'
        "  master: true\n"
        "  metrics:\n"
        "    - lag:\n"
        '        usage: "GAUGE"\n'
        '        description: "Replication lag behind master in seconds"\n'
        "pg_postmaster:\n"
        '  query: "SELECT pg_postmaster_start_time as start_time_seconds from '
        'pg_postmaster_start_time()"\n'
        "  master: true\n"
        "  metrics:\n"
        "    - start_time_seconds:\n"
        '        usage: "GAUGE"\n'
        '        description: "Time at which postmaster started"\n'
    )
    dsn = f"postgresql://postgres@{postgres.address}/postgres?sslmode=disable"
    exporter = HttpExporter(
        "postgres_exporter",
        ["prometheus-postgres-exporter", f"--extend.query-path={queries}"],
        env={"DATA_SOURCE_NAME": dsn},
    )
    try:
        exporter.start_exporter()
        yield exporter
    finally:
        exporter.close()


Exposition = dict[str, tuple[str, set[str], dict[tuple[tuple[str, str], ...], float]]]
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str, ignore_labels: frozenset[str] = frozenset()) -> Exposition:
    """name → (type, label names, {sorted label pairs: value}) of a text exposition."""
    out: Exposition = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, line
        name, labels, value = match.groups()
        pairs = tuple(
            sorted((k, v) for k, v in _LABEL.findall(labels or "") if k not in ignore_labels)
        )
        family = out.setdefault(name, (types.get(name, "untyped"), set(), {}))
        family[1].update(k for k, _ in pairs)
        family[2][pairs] = float(value)
    return out


def service(name: str, module: str, address: str, **params: Any) -> Service:
    return Service(
        name=name,
        module=module,
        address=address,
        deployment="test",
        provider="loopback",
        labels={},
        scrape_interval_seconds=15.0,
        scrape_interval="15s",
        params=params,
    )


@pytest.fixture
def exposition() -> Callable[..., Exposition]:
    """``parse_exposition`` for tests (conftest helpers are not importable by module name)."""
    return parse_exposition


@pytest.fixture
def make_service() -> Callable[..., Service]:
    return service
