"""Dashboard lint rules: each fires on a minimal bad dashboard, none on a clean one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from fleetwatch.catalog import known_series, module_specs
from fleetwatch.validate.dashboards import lint_dashboard, variable_promql
from fleetwatch.validate.engine import check_queries
from fleetwatch.validate.findings import Finding
from fleetwatch.validate.knowledge import Knowledge, own_types
from fleetwatch.validate.promtool import Promtool
from validate.samples import good_dashboard

Mutation = Callable[[dict[str, Any]], None]


def lint(dash: Any, promtool: Promtool | None = None) -> list[Finding]:
    check = lint_dashboard("d.json", dash, json.dumps(dash, indent=2, sort_keys=True))
    know = Knowledge(known_series(), None, {}, own_types(module_specs()))
    return check.findings + check_queries(check.queries, promtool, know, own={"d.json"})


def panel(dash: dict[str, Any], pid: int) -> dict[str, Any]:
    for p in dash["panels"]:
        for candidate in [p, *p.get("panels", [])]:
            if candidate["id"] == pid:
                return candidate  # type: ignore[no-any-return]
    raise KeyError(pid)


def test_the_good_dashboard_is_clean(promtool: Promtool) -> None:
    assert lint(good_dashboard(), promtool) == []


def test_api_export_form_is_unwrapped(promtool: Promtool) -> None:
    assert lint({"dashboard": good_dashboard(), "meta": {"slug": "x"}}, promtool) == []


def _set(path: str, value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        *keys, last = path.split(".")
        node: Any = d
        for key in keys:
            if key.startswith("#"):
                node = panel(node, int(key[1:]))
            else:
                node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return mutate


P2 = 'panel 2 "CPU busy"'
P5 = 'panel 5 "Available"'
CASES: list[tuple[str, Mutation, str, str]] = [
    ("schema", _set("#2.gridPos", {"h": 8, "w": "12", "x": 0, "y": 1}), P2, "gridPos.w"),
    ("schema", _set("templating.list", [{"type": "query"}]), 'variable "#0"', "'name'"),
    ("schema-version", _set("schemaVersion", 27), "", "schemaVersion 27"),
    ("schema-version", lambda d: d.pop("schemaVersion"), "", "no schemaVersion"),
    ("uid", lambda d: d.pop("uid"), "", "no uid"),
    ("uid", _set("uid", "a/b"), "", "must be 1-40"),
    ("angular-panel", _set("#2.type", "graph"), P2, "'timeseries'"),
    ("angular-panel", _set("#5.type", "singlestat"), P5, "'stat'"),
    ("panel-title", _set("#5.title", " "), 'panel 5 " "', "no title"),
    ("panel-units", _set("#2.fieldConfig", {"defaults": {}}), P2, "unit"),
    ("panel-no-targets", _set("#2.targets", []), P2, "no queries"),
    ("panel-id-unique", _set("#5.id", 3), 'panel 3 "Available"', 'panel 3 "Load"'),
    ("panel-overlap", _set("#3.gridPos", {"h": 6, "w": 12, "x": 6, "y": 2}), 'panel 3 "Load"', P2),
    ("panel-overlap", _set("#3.gridPos", {"h": 8, "w": 20, "x": 12, "y": 1}), 'panel 3 "Load"',
     "24-column"),
    ("datasource-variable", _set("#5.datasource", {"type": "prometheus", "uid": "P1809F7CD"}), P5,
     "hard-coded"),
    ("datasource-variable", _set("#3.targets.0.datasource", "Prometheus"), 'panel 3 "Load"',
     "hard-coded"),
    ("datasource-unknown", _set("#2.datasource", {"uid": "$DS_PROM"}), P2, "neither a variable"),
    ("datasource-variable", _set("templating.list.1.datasource", {"uid": "abc"}), 'variable "job"',
     "hard-coded"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "mutate", "location", "text"), CASES)
def test_structural_rule_fires(rule: str, mutate: Mutation, location: str, text: str) -> None:
    dash = good_dashboard()
    mutate(dash)
    hits = [f for f in lint(dash) if f.rule == rule]
    assert len(hits) == 1, lint(dash)
    assert hits[0].location == location
    assert text in hits[0].message
    assert hits[0].severity == "error"


def test_missing_datasource_variable() -> None:
    dash = good_dashboard()
    dash["templating"]["list"] = []
    for p in (panel(dash, 2), panel(dash, 3), panel(dash, 5)):
        p["datasource"] = None
    del panel(dash, 2)["targets"][0]["datasource"]
    hits = [f for f in lint(dash) if f.rule == "datasource-variable"]
    assert [(f.location, f.severity) for f in hits] == [("", "error")]


def test_datasource_variable_not_named_datasource_is_a_warning() -> None:
    dash = json.loads(json.dumps(good_dashboard()).replace("datasource}", "ds}"))
    dash["templating"]["list"][0]["name"] = "ds"
    assert [(f.rule, f.severity) for f in lint(dash)] == [("datasource-variable", "warning")]


QUERY_CASES = [
    ("promql-syntax", "sum(rate(node_load1[$__rate_interval])", "unclosed left parenthesis"),
    ("promql-syntax", "node_load1{job=$job}", "parse error"),
    ("variable-undefined", 'node_load1{job="x"} > $undefined', "$undefined"),
    ("unknown-metric", "node_no_such_metric_bytes", "node_no_such_metric_bytes"),
    ("rate-interval", "rate(node_cpu_seconds_total[5m])", "rate(...[5m])"),
    ("rate-interval", "irate(node_cpu_seconds_total[$__interval])", "irate(...[$__interval])"),
    ("counter-without-rate", "sum(node_cpu_seconds_total)", "node_cpu_seconds_total"),
]


@pytest.mark.parametrize(("rule", "expr", "text"), QUERY_CASES)
def test_query_rule_fires(promtool: Promtool, rule: str, expr: str, text: str) -> None:
    dash = good_dashboard()
    panel(dash, 5)["targets"][0]["expr"] = expr
    findings = lint(dash, promtool)
    assert [(f.rule, f.location) for f in findings] == [(rule, P5)]
    assert text in findings[0].message
    assert findings[0].message.startswith("query A: ")
    assert findings[0].line is not None


def test_counters_are_fine_under_rate_count_and_friends(promtool: Promtool) -> None:
    dash = good_dashboard()
    panel(dash, 5)["targets"] = [
        {"refId": "A", "expr": "count(count(node_cpu_seconds_total) by (cpu))"},
        {"refId": "B", "expr": "changes(node_cpu_seconds_total[$__rate_interval])"},
        {"refId": "C", "expr": "absent(node_cpu_seconds_total)"},
    ]
    assert lint(dash, promtool) == []


def test_variable_query_is_checked(promtool: Promtool) -> None:
    dash = good_dashboard()
    dash["templating"]["list"][1]["query"] = "label_values(node_unam_info{job=~'.+'}, job)"
    findings = lint(dash, promtool)
    assert [(f.rule, f.location) for f in findings] == [("unknown-metric", 'variable "job"')]
    dash["templating"]["list"][1]["query"] = "query_result(sum(node_load1)"
    findings = lint(dash, promtool)
    assert [(f.rule, f.location) for f in findings] == [("promql-syntax", 'variable "job"')]


@pytest.mark.parametrize(
    ("query", "promql"),
    [
        ("label_values(node_uname_info, job)", "node_uname_info"),
        ('label_values(up{job="$job", a=~"b,c"}, instance)', 'up{job="$job", a=~"b,c"}'),
        ("label_values(job)", None),
        ("label_names()", None),
        ("metrics(node_.*)", None),
        ("query_result(topk(5, up))", "topk(5, up)"),
        ('up{job="x"}', 'up{job="x"}'),
        ("", None),
    ],
)
def test_variable_promql(query: str, promql: str | None) -> None:
    assert variable_promql(query) == promql


def test_collapsed_row_panels_are_visited() -> None:
    dash = good_dashboard()
    panel(dash, 5)["type"] = "graph"
    panel(dash, 5)["gridPos"] = {"h": 8, "w": 24, "x": 0, "y": 1}  # own group: no overlap
    assert [(f.rule, f.location) for f in lint(dash)] == [("angular-panel", P5)]


def test_line_numbers_point_at_the_panel() -> None:
    dash = good_dashboard()
    panel(dash, 3)["type"] = "graph"
    text = json.dumps(dash, indent=2, sort_keys=True)
    finding = next(f for f in lint(dash) if f.rule == "angular-panel")
    assert finding.line is not None
    assert '"id": 3' in text.splitlines()[finding.line - 1]


ODD: list[Any] = [
    None,
    [],
    "dashboard",
    {"panels": None, "templating": None},
    {"panels": "x", "templating": {"list": "y"}},
    {"panels": [None, 3, "p", {"type": None, "gridPos": None, "targets": None}]},
    {"panels": [{"type": "row", "panels": [None, {"targets": [None, {"expr": None}]}]}]},
    {"panels": [{"id": 1, "type": "timeseries", "fieldConfig": {"defaults": None}}]},
    {"panels": [{"gridPos": {"x": "a", "y": None, "w": True, "h": 1}, "datasource": 5}]},
    {"templating": {"list": [None, {"type": "query", "query": 5, "datasource": []}]}},
    {"templating": {"list": [{"name": "v", "type": "query", "query": {"query": None}}]}},
    {"dashboard": None, "meta": {}},
    {"uid": 5, "schemaVersion": "41", "title": ["x"]},
]


@pytest.mark.parametrize("data", ODD)
def test_odd_json_gives_schema_findings_not_crashes(data: Any) -> None:
    findings = lint(data)
    assert any(f.rule == "schema" for f in findings), findings
