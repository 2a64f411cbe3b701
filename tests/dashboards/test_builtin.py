"""Smoke test over every file in top-level dashboards/: builds, and follows the conventions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from builtin_content import recorded
from fleetwatch.catalog import known_series
from fleetwatch.dashboards import compile_dashboard, discover

from .conftest import BUILTIN
from .test_render import all_panels, check_properties

SOURCES = discover(BUILTIN)


_WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_LABEL_SETS = re.compile(r"\{[^}]*\}")
_PROMQL_WORDS = {
    "sum", "avg", "min", "max", "count", "topk", "bottomk", "by", "without", "on", "ignoring",
    "or", "and", "unless", "rate", "irate", "increase", "deriv", "histogram_quantile", "vector",
    "scalar", "le", "bool", "group_left", "group_right", "offset", "label_values", "label_join",
}  # fmt: skip


def exprs(d: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in all_panels(d) for t in p.get("targets", []) if "expr" in t]


def metric_names(expr: str) -> set[str]:
    text = _LABEL_SETS.sub("", _STRINGS.sub('""', expr))
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = {w for w in _WORD.findall(text) if not w[0].isdigit()}
    return {n for n in names if n not in _PROMQL_WORDS and not n.startswith("__")}


def test_there_are_builtin_dashboards():
    names = {p.relative_to(BUILTIN).as_posix() for p in SOURCES}
    assert {
        "fleet/fleet-overview.yaml",
        "fleet/server-detail.yaml",
        "fleet/exporter-health.yaml",
        "examples/custom.dashboard.py",
    } <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(BUILTIN).as_posix())
def test_builtin_dashboard(path: Path):
    d = compile_dashboard(BUILTIN, path).json
    check_properties(d)
    known = known_series(recorded())
    for p in all_panels(d):
        if p["type"] != "row":
            assert p.get("title") and p.get("description"), p
    for expr in exprs(d):
        unknown = {n for n in metric_names(expr) if n not in known}
        assert not unknown, (expr, unknown)
        for fn in re.finditer(r"\b(rate|irate|increase)\(([^\[]*)\[([^\]]*)\]", expr):
            assert fn.group(3) == "$__rate_interval", expr
        outside = re.sub(r"\b(rate|irate|increase)\([^\]]*\]\)", "", expr)
        assert not re.search(r"_total\b", outside), expr


def test_builtin_uids_and_links():
    uids = {p.stem.removesuffix(".dashboard"): compile_dashboard(BUILTIN, p).uid for p in SOURCES}
    assert uids["fleet-overview"] == "fw-fleet-overview"
    assert uids["server-detail"] == "fw-server-detail"
    assert uids["exporter-health"] == "fw-exporter-health"
    overview = compile_dashboard(BUILTIN, BUILTIN / "fleet" / "fleet-overview.yaml").json
    urls = [
        link["url"]
        for p in all_panels(overview)
        for link in p.get("fieldConfig", {}).get("defaults", {}).get("links", [])
    ]
    assert any(
        "/d/fw-server-detail/" in u and "var-instance=${__data.fields.instance}" in u for u in urls
    )
    assert any("/d/fw-fleet-overview/" in u and "var-deployment=" in u for u in urls)
    detail = compile_dashboard(BUILTIN, BUILTIN / "fleet" / "server-detail.yaml").json
    assert detail["refresh"] == "10s"
    assert detail["timepicker"]["time_options"] == ["1h", "6h", "24h", "7d", "30d"]
    logs = [link for p in all_panels(detail) for link in p.get("links", [])]
    assert logs and all("fleetwatch-loki" in link["url"] for link in logs)
    names = [v["name"] for v in detail["templating"]["list"]]
    assert names == ["datasource", "deployment", "instance"]


def _overview() -> dict[str, Any]:
    return compile_dashboard(BUILTIN, BUILTIN / "fleet" / "fleet-overview.yaml").json


def test_overview_servers_by_environment_is_a_pie():
    panels = {p["title"]: p for p in all_panels(_overview())}
    pie = panels["Servers by environment"]
    assert pie["type"] == "piechart"
    (target,) = pie["targets"]
    # every inventory host, up or not: the inventory's per-host series, by the target label
    assert target["expr"].startswith("count by (environment) (instance:maintenance:inventory{")
    assert target["legendFormat"] == "{{environment}}" and target["instant"]


def test_overview_has_each_resource_over_time_by_provider_and_by_deployment():
    overview = _overview()
    rows = [p["title"] for p in overview["panels"] if p["type"] == "row"]
    assert "Over time by provider and deployment" in rows
    series = [p for p in all_panels(overview) if p["type"] == "timeseries"]
    for resource in ("CPU", "Memory", "Storage", "Network"):
        for by in ("provider", "deployment"):
            found = [p for p in series if p["title"].startswith(resource) and p["title"].endswith(
                f"by {by}")]  # fmt: skip
            assert len(found) == 1, (resource, by)
            for target in found[0]["targets"]:
                assert f"sum by ({by}) (deployment:node_" in target["expr"], target["expr"]
                assert "{{" + by + "}}" in target["legendFormat"]


def test_overview_gpu_row_is_collapsed_and_reads_the_gpu_collectors_names():
    from fleetwatch.exporters.host.collectors import gpu

    (row,) = [p for p in _overview()["panels"] if p["type"] == "row" and p["title"] == "GPUs"]
    assert row["collapsed"] and len(row["panels"]) >= 4  # empty-safe on hosts without a GPU
    emitted = {spec.name for spec in gpu.VALUE_SPECS}
    used = {n for p in row["panels"] for t in p["targets"] for n in metric_names(t["expr"])}
    assert used and used <= emitted, used - emitted
    titles = " ".join(p["title"] for p in row["panels"])
    assert "utilisation" in titles and "memory" in titles and "temperature" in titles
