"""The shipped catalogs: each loads, its claims are consistent, known dashboards are covered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fleetwatch.catalog import shipped, shipped_catalog, shipped_names
from fleetwatch.catalog.model import Catalog

COMPAT = Path("/work/shared/compat")
EXPECTED = {
    "alertmanager", "blackbox_exporter", "cadvisor", "client_libraries", "cometbft",
    "kube_state_metrics", "mysqld_exporter", "node_exporter", "postgres_exporter",
    "prometheus", "redis_exporter",
}  # fmt: skip


def test_every_catalog_is_shipped_and_loads() -> None:
    assert set(shipped_names()) == EXPECTED
    for name in shipped_names():
        cat = shipped_catalog(name)
        assert len(cat) > 10, name
        assert all(m.source == name for m in cat), name
    assert len(shipped()) == sum(len(shipped_catalog(n)) for n in shipped_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_claims_are_consistent(name: str) -> None:
    cat = shipped_catalog(name)
    for prefix, source in cat.namespaces.items():
        assert source == name
        under = [m for m in cat if m.name.startswith(prefix)]
        assert under, f"{name} claims {prefix} but lists nothing under it"
        # a glob under a claimed prefix would make the claim void (or it must be narrower)
        assert not [m.name for m in under if m.is_glob and m.name == prefix + "*"], prefix
    others = [n for n in shipped_names() if n != name]
    for other in others:
        assert not set(cat.namespaces) & set(shipped_catalog(other).namespaces)


def test_no_claimed_prefix_swallows_another_catalogs_metrics() -> None:
    cat = shipped()
    for metric in cat:
        owner = cat.claimed_by(metric.name)
        assert owner in (None, metric.source), (metric.name, owner)


def test_deprecated_names_point_at_a_current_name() -> None:
    cat = shipped()
    old = [m for m in cat if m.deprecated]
    assert {m.name for m in old} >= {"node_cpu", "node_memory_MemTotal", "kube_hpa_labels"}
    for m in old:
        new = re.search(r"renamed to ([a-zA-Z_:][a-zA-Z0-9_:]*)", m.deprecated)
        assert new is not None, m
        assert cat.lookup(new.group(1)) is not None, (m.name, new.group(1))
        assert not cat.lookup(new.group(1)).deprecated  # type: ignore[union-attr]


def test_legacy_tendermint_namespace_mirrors_cometbft() -> None:
    cat = shipped_catalog("cometbft")
    comet = {n.removeprefix("cometbft_") for n in cat.names() if n.startswith("cometbft_")}
    tm = {n.removeprefix("tendermint_") for n in cat.names() if n.startswith("tendermint_")}
    assert comet == tm and "consensus_height" in comet


def test_well_known_names_and_types() -> None:
    cat = shipped()
    expect = {
        "node_cpu_seconds_total": "counter",
        "node_memory_MemAvailable_bytes": "gauge",
        "node_filesystem_avail_bytes": "gauge",
        "node_hwmon_temp_celsius": "gauge",
        "node_systemd_unit_state": "gauge",
        "node_textfile_mtime_seconds": "gauge",
        "prometheus_http_request_duration_seconds_bucket": "counter",
        "prometheus_tsdb_head_series": "gauge",
        "alertmanager_notifications_total": "counter",
        "go_goroutines": "gauge",
        "process_cpu_seconds_total": "counter",
        "promhttp_metric_handler_requests_total": "counter",
        "probe_success": "gauge",
        "probe_http_duration_seconds": "gauge",
        "redis_connected_clients": "gauge",
        "pg_stat_database_xact_commit": "counter",
        "pg_settings_max_connections": "gauge",
        "mysql_up": "gauge",
        "mysql_global_status_threads_connected": "untyped",
        "container_cpu_usage_seconds_total": "counter",
        "machine_memory_bytes": "gauge",
        "kube_pod_container_status_restarts_total": "counter",
        "cometbft_consensus_height": "gauge",
        "tendermint_p2p_peers": "gauge",
        "cometbft_consensus_block_interval_seconds_bucket": "counter",
    }
    wrong = {n: cat.sample_type(n) for n, t in expect.items() if cat.sample_type(n) != t}
    assert wrong == {}


def test_claimed_typos_are_caught_with_a_suggestion() -> None:
    cat = shipped()
    assert cat.lookup("node_cpu_seconds") is None
    assert cat.claimed_by("node_cpu_seconds") == "node_exporter"
    assert cat.suggest("node_cpu_secnds_total")[0] == "node_cpu_seconds_total"
    assert cat.suggest("node_filesystem_avail")[0] == "node_filesystem_avail_bytes"
    assert cat.claimed_by("node_apt_upgrades_pending") is None  # textfile scripts' names
    assert cat.claimed_by("pg_stat_user_tables_n_live_tup") is None  # custom queries


def _dashboard_names(path: Path) -> set[str]:
    exprs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "query", "definition") and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(path.read_text()))
    names: set[str] = set()
    for expr in exprs:
        expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values are not names
        for m in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{\[),]|$|\s)", expr):
            if m.group(1).startswith(("node_", "go_", "process_", "promhttp_")):
                names.add(m.group(1))
    return names


def test_node_exporter_full_is_covered() -> None:
    path = COMPAT / "node-exporter-full.json"
    if not path.exists():
        pytest.skip(f"{path} not on this machine")
    names = _dashboard_names(path)
    assert len(names) > 150
    cat: Catalog = shipped()
    missing = sorted(n for n in names if cat.lookup(n) is None)
    assert missing == []
    deprecated = sorted(n for n in names if cat.lookup(n).deprecated)  # type: ignore[union-attr]
    assert deprecated == []
