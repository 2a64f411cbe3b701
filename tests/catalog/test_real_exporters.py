"""The shipped catalogs against the real programs on this machine (Debian's packages): every
family a running binary serves is in the catalog with the same type; and ``from_prometheus``
against a real Prometheus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fleetwatch.catalog import from_prometheus, shipped, shipped_catalog
from fleetwatch.catalog.exposition import parse_families
from fleetwatch.catalog.live import fetch
from fleetwatch.errors import FetchError
from servers import AlertmanagerServer, NodeExporter, Prometheus, http_get, require, wait_until
from service_servers import BLACKBOX, Blackbox, HttpExporter, Postgres, RedisServer

pytestmark = pytest.mark.e2e


def _differences(text: str, page: str) -> dict[str, str]:
    """Families of ``text`` missing from the shipped catalogs or typed differently."""
    cat = shipped()
    out: dict[str, str] = {}
    for family in parse_families(text, page):
        known = cat.lookup(family.name)
        if known is None:
            out[family.name] = "missing"
        elif known.type != family.type and not known.is_glob:
            out[family.name] = f"{family.type} served, {known.type} in the catalog"
        elif known.is_glob and known.type not in (family.type, "untyped"):
            out[family.name] = f"{family.type} served, glob {known.name} is {known.type}"
    return out


def test_node_exporter(node_exporter: NodeExporter) -> None:
    text = node_exporter.metrics()
    assert len(parse_families(text, "node")) > 200
    assert _differences(text, "node_exporter") == {}


@pytest.fixture(scope="module")
def prometheus(node_exporter: NodeExporter) -> Iterator[Prometheus]:
    require("prometheus")
    config = (
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: node, static_configs: [{{targets: ['{node_exporter.address}']}}]}}\n"
    )
    with Prometheus(config) as server:
        yield server


def test_prometheus_itself(prometheus: Prometheus) -> None:
    status, body = http_get(f"{prometheus.url}/metrics", timeout=10)
    assert status == 200
    assert _differences(body.decode(), "prometheus") == {}


def test_from_prometheus_names_and_types(prometheus: Prometheus) -> None:
    wait_until(
        lambda: prometheus.query("node_cpu_seconds_total") != [],
        timeout=30,
        what="Prometheus scraped node_exporter",
    )
    wait_until(
        lambda: "node_cpu_seconds_total" in prometheus.api("metadata"),
        timeout=30,
        what="Prometheus has metadata",
    )
    cat = from_prometheus(prometheus.url, timeout=10)
    assert cat.sample_type("node_cpu_seconds_total") == "counter"
    assert cat.sample_type("node_memory_MemTotal_bytes") == "gauge"
    assert cat.sample_type("go_gc_duration_seconds_count") == "counter"
    assert cat.lookup("up") is not None  # a name without metadata is still known (untyped)
    assert cat.lookup("node_no_such_metric") is None
    assert all(m.source == f"Prometheus at {prometheus.url}" for m in cat)


def test_from_prometheus_errors_name_the_url(
    prometheus: Prometheus, node_exporter: NodeExporter
) -> None:
    with pytest.raises(FetchError, match=r"http://127\.0\.0\.1:1/.*"):
        from_prometheus("http://127.0.0.1:1/", timeout=2)
    with pytest.raises(FetchError, match="not JSON"):
        from_prometheus(node_exporter.url.removesuffix("/metrics"), timeout=5)
    with pytest.raises(FetchError, match="larger than"):
        fetch(node_exporter.url, timeout=5, max_bytes=1000)


def test_alertmanager() -> None:
    require("prometheus-alertmanager")
    with AlertmanagerServer() as server:
        status, body = http_get(f"{server.url}/metrics", timeout=10)
    assert status == 200
    assert _differences(body.decode(), "alertmanager") == {}


def test_blackbox_exporter() -> None:
    require(BLACKBOX)
    with Blackbox() as server:
        status, body = http_get(f"{server.url}/metrics", timeout=10)
        probe = server.probe(f"{server.url}/metrics", "http_2xx")
    assert status == 200
    assert _differences(body.decode() + probe, "blackbox") == {}
    assert "probe_http_status_code" in probe


def test_redis_exporter() -> None:
    require("redis-server", "redis-cli", "prometheus-redis-exporter")
    with RedisServer() as redis:
        exporter = HttpExporter(
            "redis_exporter",
            ["prometheus-redis-exporter", f"-redis.addr=redis://{redis.address}"],
            listen_flag="-web.listen-address",
        )
        try:
            text = exporter.start_exporter().metrics()
        finally:
            exporter.close()
    assert "redis_connected_clients" in text
    assert _differences(text, "redis_exporter") == {}


def test_postgres_exporter() -> None:
    require("runuser", "prometheus-postgres-exporter", users=["postgres"])
    server = Postgres()
    try:
        server.start_db()
        dsn = f"postgresql://postgres@{server.address}/postgres?sslmode=disable"
        exporter = HttpExporter(
            "postgres_exporter", ["prometheus-postgres-exporter"], env={"DATA_SOURCE_NAME": dsn}
        )
        try:
            text = exporter.start_exporter().metrics()
        finally:
            exporter.close()
    finally:
        server.close()
    assert "pg_stat_database_xact_commit" in text
    assert _differences(text, "postgres_exporter") == {}
    assert len(shipped_catalog("postgres_exporter")) > 100
