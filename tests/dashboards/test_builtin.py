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
