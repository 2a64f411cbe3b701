"""The postgres module against a real PostgreSQL 15, measured against postgres_exporter 0.11."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from fleetwatch.errors import ParseError
from fleetwatch.exporters.services.postgres import (
    PARAMS_SCHEMA,
    PostgresModule,
    parse_custom_queries,
    setting_metric,
    to_float,
)
from servers import free_port

PG_PASSWORD = "s3cret-fw"
SKIPPED_PREFIXES = ("pg_exporter_", "pg_scrape_collector_")  # the exporter's own metrics
CLIENT_SETTINGS = {"pg_settings_extra_float_digits"}  # each driver sets its own per session
IGNORED_LABELS = frozenset({"server"})  # postgres_exporter's per-target label: a target label


def probe(service: Any, timeout: float = 10.0) -> Any:
    async def once() -> Any:
        module = PostgresModule()
        try:
            return await module.probe(service, timeout)
        finally:
            await module.close()

    return asyncio.run(once())


@pytest.mark.e2e
def test_families_match_postgres_exporter(
    postgres: Any, postgres_exporter: Any, exposition: Callable[..., Any], make_service: Any
) -> None:
    result = probe(make_service("db", "postgres", postgres.address, user="postgres"))
    assert result.errors == {}
    ours = exposition(result.families.render().decode())
    theirs = exposition(postgres_exporter.metrics(), IGNORED_LABELS)
    theirs = {
        k: v
        for k, v in theirs.items()
        if k.startswith("pg_") and not k.startswith(SKIPPED_PREFIXES)
    }
    missing = sorted(set(theirs) - set(ours))
    assert not missing, f"postgres_exporter families fleetwatch lacks: {missing}"
    for name, (typ, labels, _) in theirs.items():
        assert ours[name][0] == typ, name
        assert ours[name][1] == labels, name
    # settings agree exactly; database sizes roughly; activity / locks have the same series
    for name in theirs:
        if name.startswith("pg_settings_") and name not in CLIENT_SETTINGS:
            assert ours[name][2] == theirs[name][2], name
    for key, size in theirs["pg_database_size_bytes"][2].items():
        assert ours["pg_database_size_bytes"][2][key] == pytest.approx(size, rel=0.2)
    for name in ("pg_stat_activity_count", "pg_locks_count", "pg_stat_database_xact_commit"):
        assert ours[name][2].keys() == theirs[name][2].keys(), name
    assert ours["pg_static"][2] == theirs["pg_static"][2]
    assert ours["pg_up"][2] == theirs["pg_up"][2] == {(): 1.0}
    declared = {s.name for s in PostgresModule().specs()}
    assert {n for n in ours if not n.startswith("pg_settings_")} <= declared


@pytest.mark.e2e
def test_values(postgres: Any, make_service: Any) -> None:
    fams = probe(make_service("db", "postgres", postgres.address, user="postgres")).families
    assert fams.get("pg_settings_max_connections") == 100
    assert fams.get("pg_settings_shared_buffers_bytes") == 128 * 2**20
    assert fams.get("pg_settings_checkpoint_timeout_seconds") == 300
    assert fams.get("pg_replication_is_replica") == 0
    assert fams.get("pg_replication_lag") == 0
    assert fams.get("pg_stat_activity_count", {"datname": "postgres", "state": "active"}) >= 1
    size = fams.get("pg_database_size_bytes", {"datname": "app"})
    assert size is not None and size > 1e6
    assert fams.get("pg_stat_bgwriter_buffers_alloc_total") is not None


@pytest.mark.e2e
def test_custom_query_gauge(
    postgres: Any, make_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FW_PG_PW", PG_PASSWORD)
    queries = [
        {
            "name": "app_tenants",
            "query": "SELECT status, count(*) AS count FROM tenants GROUP BY status",
            "metrics": [
                {"column": "status", "usage": "label"},
                {"column": "count", "usage": "gauge", "help": "Tenants by status"},
            ],
        },
        {  # postgres_exporter's own item shape
            "name": "app_oldest",
            "query": "SELECT 42 AS id",
            "metrics": [{"id": {"usage": "GAUGE", "description": "the id"}}],
        },
        {"name": "app_broken", "query": "SELECT nope FROM nowhere", "metrics": [{"column": "x"}]},
    ]
    svc = make_service(
        "tenants-db",
        "postgres",
        postgres.address,
        user="fwuser",
        dbname="app",
        sslmode="disable",
        password_env="FW_PG_PW",
        queries=queries,
    )
    result = probe(svc)
    fams = result.families
    assert fams.get("pg_up") == 1
    assert fams.get("app_tenants_count", {"status": "active"}) == 2
    assert fams.get("app_tenants_count", {"status": "trial"}) == 1
    assert fams.get("app_oldest_id") == 42
    assert set(result.errors) == {"query:app_broken"}
    assert result.errors["query:app_broken"].startswith("query:")
    assert b"# TYPE app_tenants_count gauge" in fams.render()


def test_dead_database_is_up_0_with_reason(make_service: Any) -> None:
    result = probe(make_service("gone", "postgres", f"127.0.0.1:{free_port()}", user="postgres"))
    assert result.families.get("pg_up") == 0
    assert len(result.families) == 1
    assert result.errors["postgres"].startswith("connect:"), result.errors


@pytest.mark.e2e
def test_wrong_password_is_up_0_with_reason(
    postgres: Any, make_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FW_PG_PW", "wrong-password")
    svc = make_service("db", "postgres", postgres.address, user="fwuser", password_env="FW_PG_PW")
    result = probe(svc)
    assert result.families.get("pg_up") == 0
    assert result.errors["postgres"].startswith("auth:"), result.errors
    assert "wrong-password" not in result.errors["postgres"]
    monkeypatch.setenv("FW_PG_PW", PG_PASSWORD)
    assert probe(svc).families.get("pg_up") == 1


@pytest.mark.e2e
def test_unix_socket_address(postgres: Any, make_service: Any) -> None:
    svc = make_service("db", "postgres", f"{postgres.sock}:{postgres.port}", user="postgres")
    result = probe(svc)
    assert result.errors == {}
    assert result.families.get("pg_up") == 1
    # the bare directory means port 5432, which is not this server's: up 0 with the reason
    result = probe(make_service("db", "postgres", str(postgres.sock), user="postgres"))
    assert result.families.get("pg_up") == 0
    assert result.errors["postgres"].startswith("connect:")


def test_setting_metric_units() -> None:
    assert setting_metric("shared_buffers", "16384", "8kB", "integer") == (
        "pg_settings_shared_buffers_bytes",
        16384 * 8192,
    )
    assert setting_metric("statement_timeout", "1500", "ms", "integer") == (
        "pg_settings_statement_timeout_seconds",
        1.5,
    )
    assert setting_metric("autovacuum_work_mem", "-1", "kB", "integer") == (
        "pg_settings_autovacuum_work_mem_bytes",
        -1,
    )
    assert setting_metric("fsync", "on", "", "bool") == ("pg_settings_fsync", 1.0)
    assert setting_metric("pg_stat_statements.max", "5000", "", "integer")[0] == (
        "pg_settings_pg_stat_statements_max"
    )
    for args in (
        ("x", "1", "parsecs", "integer"),
        ("x", "abc", "", "real"),
        ("x", "1", "", "enum"),
    ):
        with pytest.raises(ParseError):
            setting_metric(*args)


def test_to_float() -> None:
    assert math.isnan(to_float(None))
    assert to_float(True) == 1.0
    assert to_float("2.5") == 2.5
    assert math.isnan(to_float("text"))


@pytest.mark.parametrize(
    "raw",
    [
        "SELECT 1",
        [{"name": "bad name", "query": "SELECT 1", "metrics": [{"column": "x"}]}],
        [{"name": "ok", "query": "", "metrics": [{"column": "x"}]}],
        [{"name": "ok", "query": "SELECT 1", "metrics": []}],
        [{"name": "ok", "query": "SELECT 1", "metrics": [{"column": "x", "usage": "histogram"}]}],
        [42],
    ],
)
def test_bad_custom_queries_raise_parse_error(raw: Any) -> None:
    with pytest.raises(ParseError):
        parse_custom_queries(raw)


def test_bad_custom_queries_are_up_0_not_a_crash(make_service: Any) -> None:
    svc = make_service("db", "postgres", "127.0.0.1:1", queries="SELECT 1")
    result = probe(svc)
    assert result.families.get("pg_up") == 0
    assert result.errors["postgres"].startswith("parse:")


def test_module_interface() -> None:
    module = PostgresModule()
    assert module.name == "postgres" and module.pool_size() == 0
    assert "queries" in PARAMS_SCHEMA["properties"]
    asyncio.run(module.close())


@pytest.mark.e2e
def test_the_connection_is_kept_and_replaced_when_the_server_drops_it(
    postgres: Any, make_service: Any
) -> None:
    svc = make_service("db", "postgres", postgres.address, user="postgres")
    sql = "SELECT pid FROM pg_stat_activity WHERE application_name = 'fleetwatch'"

    async def run() -> list[Any]:
        module = PostgresModule()
        try:
            first = await module.probe(svc, 10.0)
            pids = [postgres.psql(sql).split()]
            second = await module.probe(svc, 10.0)
            pids.append(postgres.psql(sql).split())
            assert module.pool_size() == 1
            postgres.psql(f"SELECT pg_terminate_backend({pids[-1][0]})")
            third = await module.probe(svc, 10.0)  # the dead connection is noticed, replaced
            pids.append(postgres.psql(sql).split())
            return [first, second, third, pids]
        finally:
            await module.close()

    first, second, third, pids = asyncio.run(run())
    assert [r.families.get("pg_up") for r in (first, second, third)] == [1, 1, 1]
    assert not third.errors
    assert len(pids[0]) == 1 and pids[0] == pids[1]  # one backend for both probes
    assert len(pids[2]) == 1 and pids[2] != pids[1]
