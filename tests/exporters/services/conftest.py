"""Session fixtures: a real redis-server and PostgreSQL, and the standard exporters against them.

Every server runs on a free loopback port in its own process group and is stopped by PID
(tests/servers.py).  PostgreSQL runs as the ``postgres`` user (it refuses root).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fleetwatch.inventory import Service
from servers import require
from service_servers import PG_BIN, HttpExporter, Postgres, RedisServer, service_target

PG_PASSWORD = "s3cret-fw"
REDIS_PASSWORD = "redis-pw-fw"
REDIS_CHECK_KEYS = ["bull:email:wait", "rq:queue:default", "3:celery", "counter", "nokey"]
"""fleetwatch's check_keys; the same keys in redis_exporter's syntax below."""
REDIS_CHECK_KEYS_FLAG = "bull:email:wait,rq:queue:default,db3=celery,counter,nokey"


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
    return service_target(module, address, name, **params)


@pytest.fixture
def exposition() -> Callable[..., Exposition]:
    """``parse_exposition`` for tests (conftest helpers are not importable by module name)."""
    return parse_exposition


@pytest.fixture
def make_service() -> Callable[..., Service]:
    return service
