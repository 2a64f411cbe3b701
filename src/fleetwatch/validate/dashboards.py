"""Lint any Grafana dashboard JSON: structure, Grafana 11+ conventions, and its PromQL.

``lint_dashboard`` runs the structural rules and collects the PromQL queries; ``check_queries``
checks the queries of many dashboards with one promtool run (syntax, catalog, counters,
``$__rate_interval``).  Every access is defensive: an unexpected shape is a ``schema`` finding,
never an exception.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from fleetwatch.validate import promql, units
from fleetwatch.validate.findings import Finding, Rule, Severity

RULES: dict[str, Rule] = {
    "schema": Rule("the JSON has the structure of a Grafana dashboard"),
    "schema-version": Rule("schemaVersion is at least 39 (Grafana 11)", style=True),
    "uid": Rule("the dashboard has a stable uid (1-40 of A-Z a-z 0-9 - _)", style=True),
    "uid-duplicate": Rule("no two dashboards share a uid (provisioning keeps one of them)"),
    "angular-panel": Rule("no Angular panel types (graph, singlestat, table-old...)", "warning"),
    "datasource-variable": Rule(
        "a `datasource` variable exists and panels use it, not a fixed uid", style=True
    ),
    "datasource-unknown": Rule(
        "a datasource reference `${x}` names a variable or an `__inputs` entry of the file"
    ),
    "panel-title": Rule("every panel has a title", style=True),
    "panel-units": Rule("data panels set fieldConfig.defaults.unit", style=True),
    "unit-id": Rule("units are Grafana unit ids (else Grafana shows them as a suffix)", "warning"),
    "panel-no-targets": Rule("data panels have queries", "warning"),
    "panel-id-unique": Rule("panel ids are unique", "warning"),
    "panel-overlap": Rule("panels do not overlap and fit the 24-column grid", "warning"),
    "variable-undefined": Rule("every $variable a query uses is defined (or a Grafana macro)"),
    "variable-query": Rule(
        "variable queries are label_values / query_result / label_names / "
        "metrics / a series selector, and parse"
    ),
    "promql-syntax": Rule("queries parse (promtool), after Grafana variables are substituted"),
    "unknown-metric": Rule(
        "queries use only metrics that exist: the catalogs of known exporters, recording rules, "
        "the inventory (fleetwatch's own build: its modules)"
    ),
    "deprecated-metric": Rule("queries do not use metric names their exporter renamed", "warning"),
    "rate-interval": Rule("rate / irate use [$__rate_interval], not a fixed range", "warning"),
}
MIN_SCHEMA_VERSION = 39
ANGULAR = {
    "graph": "timeseries",
    "singlestat": "stat",
    "table-old": "table",
    "grafana-singlestat-panel": "stat",
    "grafana-piechart-panel": "piechart",
    "grafana-worldmap-panel": "geomap",
    "natel-discrete-panel": "state-timeline",
    "vonage-status-panel": "stat",
    "briangann-gauge-panel": "gauge",
    "briangann-datatable-panel": "table",
    "michaeldmoore-annunciator-panel": "stat",
    "savantly-heatmap-panel": "heatmap",
    "flant-statusmap-panel": "status-history",
}
NO_QUERY_TYPES = frozenset(
    ["row", "text", "news", "dashlist", "alertlist", "annolist", "welcome", "gettingstarted"]
)
UNIT_TYPES = frozenset(
    [
        "timeseries",
        "stat",
        "gauge",
        "bargauge",
        "barchart",
        "piechart",
        "histogram",
        "trend",
        "xychart",
        "graph",
        "singlestat",
    ]
)
BUILTIN_DATASOURCES = frozenset({"grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"})
_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_VAR_REF = re.compile(r"\$\{([^}:]+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")
_VAR_QUERY = re.compile(r"(label_values|query_result|label_names|metrics)\s*\((.*)\)", re.S)


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(files(__package__).joinpath("dashboard_schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Query:
    file: str
    location: str
    line: int | None
    ref: str  # "query A" / "query"
    raw: str  # as written, with Grafana variables
    expr: str  # variables substituted: what promtool sees
    panel: bool  # a panel target (False: a template variable's query)


@dataclass
class DashboardCheck:
    file: str
    findings: list[Finding] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)
    uid: str | None = None


class _Lines:
    """Line numbers of panels (``"id": N``) and variables (``"name": "x"``) in the JSON text."""

    def __init__(self, text: str) -> None:
        self._nl = [m.start() for m in re.finditer("\n", text)]
        self.ids: dict[int, int] = {}
        self.names: dict[str, int] = {}
        for m in re.finditer(r'"id":\s*(\d+)', text):
            self.ids.setdefault(int(m[1]), self._line(m.start()))
        start = max(text.find('"templating"'), 0)
        for m in re.finditer(r'"name":\s*"([^"\\]*)"', text[start:]):
            self.names.setdefault(m[1], self._line(start + m.start()))

    def _line(self, pos: int) -> int:
        return bisect.bisect_left(self._nl, pos) + 1


def unwrap(data: Any) -> Any:
    """The dashboard of an API export ``{"dashboard": {...}, "meta": {...}}``, else ``data``."""
    if isinstance(data, dict) and isinstance(data.get("dashboard"), dict) and "panels" not in data:
        return data["dashboard"]
    return data


def iter_panels(dash: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int]]:
    """(panel, group): every panel dict, rows' nested ones too; group 0 is the top level.
    Dashboards of schema < 16 keep their panels in ``rows[].panels`` (no grid): those too."""
    for row in _list(dash.get("rows")):
        for child in _list(_obj(row).get("panels")):
            if isinstance(child, dict):
                yield child, id(row)
    for panel in _list(dash.get("panels")):
        if isinstance(panel, dict):
            yield panel, 0
            for child in _list(panel.get("panels")):
                if isinstance(child, dict):
                    yield child, id(panel)


def panel_location(panel: dict[str, Any]) -> str:
    kind = "row" if panel.get("type") == "row" else "panel"
    pid = panel.get("id")
    title = json.dumps(_str(panel.get("title")), ensure_ascii=False)
    return f"{kind} {pid} {title}" if isinstance(pid, int) else f"{kind} {title}"


class _Linter:
    def __init__(self, file: str, dash: dict[str, Any], text: str) -> None:
        self.file = file
        self.dash = dash
        self.lines = _Lines(text)
        self.out = DashboardCheck(file)
        self.variables = [v for v in _list(_obj(dash.get("templating")).get("list")) if _obj(v)]
        self.names = {_str(v.get("name")) for v in self.variables}
        self.ds_vars = {
            _str(v.get("name")): _str(v.get("query")) or "prometheus"
            for v in self.variables
            if v.get("type") == "datasource"
        }
        # an exported dashboard's inputs: `${DS_PROMETHEUS}` and constants filled in at import
        self.inputs = {
            _str(i.get("name")): _str(i.get("pluginId")) or _str(i.get("type"))
            for i in _list(dash.get("__inputs"))
            if isinstance(i, dict) and _str(i.get("name"))
        }
        self.names |= set(self.inputs)

    def add(self, rule: str, msg: str, where: Any = None, severity: Severity = "error") -> None:
        loc, line = "", None
        if isinstance(where, dict):
            loc = panel_location(where)
            pid = where.get("id")
            line = self.lines.ids.get(pid) if isinstance(pid, int) else None
        elif isinstance(where, str) and where:
            loc = f"variable {json.dumps(where, ensure_ascii=False)}"
            line = self.lines.names.get(where)
        self.out.findings.append(Finding(self.file, rule, msg, loc, severity, line))

    def run(self) -> DashboardCheck:
        for err in _validator().iter_errors(self.dash):
            self._schema_error(list(err.absolute_path), err.message)
        self._dashboard()
        panels = list(iter_panels(self.dash))
        seen: dict[int, dict[str, Any]] = {}
        for panel, _ in panels:
            self._panel(panel)
            pid = panel.get("id")
            if isinstance(pid, int) and pid in seen:
                other = panel_location(seen[pid])
                self.add("panel-id-unique", f"panel id {pid} is also used by {other}", panel)
            elif isinstance(pid, int):
                seen[pid] = panel
        groups: dict[int, list[dict[str, Any]]] = {}
        for panel, group in panels:
            groups.setdefault(group, []).append(panel)
        for members in groups.values():
            self._overlaps(members)
        for var in self.variables:
            self._variable(var)
        return self.out

    def _schema_error(self, path: list[str | int], message: str) -> None:
        node: Any = self.dash
        where: Any = None
        rest: list[str] = []
        for i, key in enumerate(path):
            if isinstance(node, dict):
                node = node.get(str(key))
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                node = None
            if i >= 1 and path[i - 1] == "panels" and isinstance(key, int):
                where, rest = node, []
            elif i >= 1 and path[i - 1] == "list" and path[:1] == ["templating"]:
                where, rest = _str(_obj(node).get("name")) or f"#{key}", []
            else:
                rest.append(str(key))
        self.add("schema", f"{'.'.join(rest) + ': ' if rest else ''}{message}", where)

    def _dashboard(self) -> None:
        version = self.dash.get("schemaVersion")
        if not isinstance(version, int) or version < MIN_SCHEMA_VERSION:
            got = f"schemaVersion {version}" if isinstance(version, int) else "no schemaVersion"
            msg = f"{got}: Grafana 11+ dashboards have schemaVersion >= {MIN_SCHEMA_VERSION}"
            self.add("schema-version", msg)
        uid = self.dash.get("uid")
        if not isinstance(uid, str) or not uid:
            self.add("uid", "no uid: links and provisioning need a stable uid")
        elif not _UID.fullmatch(uid):
            self.add("uid", f"uid {uid!r} must be 1-40 characters of A-Z a-z 0-9 - _")
        self.out.uid = uid if isinstance(uid, str) and uid else None
        if not self.ds_vars:
            if any(_list(p.get("targets")) for p, _ in iter_panels(self.dash)):
                msg = "no datasource variable: add one named 'datasource' (type datasource)"
                self.add("datasource-variable", msg)
        elif "datasource" not in self.ds_vars:
            names = ", ".join(sorted(self.ds_vars))
            msg = f"datasource variable named {names}: the convention is 'datasource'"
            self.add("datasource-variable", msg, severity="warning")

    def _datasource(self, ds: Any) -> tuple[str | None, str]:
        """(problem or None, plugin type or "") of a datasource reference; a problem starting
        with ``!`` is a reference to nothing (``datasource-unknown``)."""
        ref = ds if isinstance(ds, str) else _str(_obj(ds).get("uid"))
        kind = _str(_obj(ds).get("type"))
        if not ref or ref in BUILTIN_DATASOURCES:
            return None, kind
        m = _VAR_REF.fullmatch(ref)
        if m is None:
            return f"hard-coded datasource {ref!r}: use the datasource variable", kind
        name = m[1] or m[2] or m[3]
        if name in self.inputs:
            return None, kind or ("prometheus" if "prometheus" in self.inputs[name] else "")
        if name not in self.ds_vars:
            if name in self.names:
                return None, kind  # a custom / constant variable holding the datasource name
            return f"!datasource {ref} is neither a variable nor an __inputs entry", kind
        return None, kind or self.ds_vars[name]

    def _ds_problem(self, problem: str, where: Any) -> None:
        if problem.startswith("!"):
            self.add("datasource-unknown", problem[1:], where)
        else:
            self.add("datasource-variable", problem, where)

    def _panel(self, panel: dict[str, Any]) -> None:
        ptype = _str(panel.get("type"))
        library = "libraryPanel" in panel
        if ptype in ANGULAR:
            msg = f"Angular panel type {ptype!r} (removed in Grafana 12): use {ANGULAR[ptype]!r}"
            self.add("angular-panel", msg, panel)
        if ptype != "row" and not _str(panel.get("title")).strip() and not library:
            self.add("panel-title", "panel has no title", panel)
        targets = [t for t in _list(panel.get("targets")) if isinstance(t, dict)]
        if ptype == "row":
            targets = []  # Grafana ignores a row's targets
        if ptype and ptype not in NO_QUERY_TYPES and not library and not targets:
            self.add("panel-no-targets", f"{ptype} panel has no queries", panel)
        defaults = _obj(_obj(panel.get("fieldConfig")).get("defaults"))
        override_unit = any(
            _obj(p).get("id") == "unit"
            for o in _list(_obj(panel.get("fieldConfig")).get("overrides"))
            for p in _list(_obj(o).get("properties"))
        )
        legacy = _str(panel.get("format")) or next(
            (_str(_obj(a).get("format")) for a in _list(panel.get("yaxes"))), ""
        )
        unit = _str(defaults.get("unit"))
        if ptype in UNIT_TYPES and targets and not unit and not override_unit and not legacy:
            self.add("panel-units", "no unit: set fieldConfig.defaults.unit", panel)
        if unit and not units.is_unit(unit):
            self.add(
                "unit-id",
                f"unit {unit!r} is not a Grafana unit id (shown as a suffix; "
                f"custom units are written suffix:{unit})",
                panel,
            )
        problem, panel_kind = self._datasource(panel.get("datasource"))
        for target in targets:
            tproblem, kind = self._datasource(target.get("datasource"))
            problem = problem or tproblem
            kind = kind or panel_kind
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                continue  # Grafana runs no query for an empty one
            if kind in ("", "prometheus") and not target.get("hide"):
                ref = f"query {_str(target.get('refId')) or '?'}"
                self._undefined(panel, expr, f"{ref}: ")
                self._query(panel, ref, expr, True)
        if problem:
            self._ds_problem(problem, panel)

    def _variable(self, var: dict[str, Any]) -> None:
        name = _str(var.get("name"))
        if var.get("type") != "query":
            return
        problem, kind = self._datasource(var.get("datasource"))
        if problem:
            self._ds_problem(problem, name)
        query = var.get("query")
        text = _str(_obj(query).get("query")) if isinstance(query, dict) else _str(query)
        if kind not in ("", "prometheus"):
            return
        bad = variable_query_problem(text)
        if bad is not None:
            self.add("variable-query", bad, name)
            return
        self._undefined(name, text)
        expr = variable_promql(text)
        if expr is not None:
            self._query(name, "query", expr, False)

    def _undefined(self, where: Any, text: str, ref: str = "") -> None:
        for m in _VAR_REF.finditer(text):
            name = m[1] or m[2] or m[3]
            if name.startswith("__") or name.isdigit() or name in self.names:
                continue
            self.add(
                "variable-undefined", f"{ref}${name} is not a variable of this dashboard", where
            )

    def _query(self, where: Any, ref: str, raw: str, panel: bool) -> None:
        loc, line = "", None
        if isinstance(where, dict):
            loc, pid = panel_location(where), where.get("id")
            line = self.lines.ids.get(pid) if isinstance(pid, int) else None
        else:
            loc, line = f"variable {json.dumps(where)}", self.lines.names.get(where)
        # an undefined variable is reported once (variable-undefined), not as a syntax error too
        expr = promql.substitute_grafana_variables(raw)
        self.out.queries.append(Query(self.file, loc, line, ref, raw, expr, panel))

    def _overlaps(self, panels: list[dict[str, Any]]) -> None:
        boxes = []
        for panel in panels:
            pos = _obj(panel.get("gridPos"))
            x, y, w, h = (pos.get(k) for k in "xywh")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y, w, h)):
                continue
            assert isinstance(x, int) and isinstance(y, int)
            assert isinstance(w, int) and isinstance(h, int)
            if x + w > 24:
                self.add("panel-overlap", f"x {x} + w {w} exceeds the 24-column grid", panel)
            boxes.append((y, x, w, h, panel))
        boxes.sort(key=lambda b: (b[0], b[1]))
        for i, (y, x, w, h, panel) in enumerate(boxes):
            for y2, x2, w2, _, other in boxes[i + 1 :]:
                if y2 >= y + h:
                    break
                if x2 < x + w and x < x2 + w2:
                    self.add("panel-overlap", f"overlaps {panel_location(panel)}", other)


_FUNCS = ("label_values", "query_result", "label_names", "metrics")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\$\{?\w+\}?")


def variable_query_problem(query: str) -> str | None:
    """Why a Prometheus variable query is not one Grafana runs, or None."""
    query = query.strip()
    head = re.match(r"(\w+)\s*\(", query)
    if head is None or head[1] not in _FUNCS:
        return None
    m = _VAR_QUERY.fullmatch(query)
    if m is None:
        return f"{head[1]}(...) is not closed: {query[:80]!r}"
    func, args = m[1], m[2].strip()
    if func == "query_result" and not args:
        return "query_result() needs a query"
    if func == "label_values":
        parts = _split_last_comma(args)
        label = (parts[1] if parts else args).strip()
        if not _LABEL.fullmatch(label):
            return f"label_values: {label!r} is not a label name (label_values(metric, label))"
    return None


def _split_last_comma(args: str) -> tuple[str, str] | None:
    depth, comma = 0, -1
    for tok in promql.tokenize(args):
        depth += tok.text in "([{" and tok.kind == "punct"
        depth -= tok.text in ")]}" and tok.kind == "punct"
        if depth == 0 and tok.is_(","):
            comma = tok.start
    return (args[:comma], args[comma + 1 :]) if comma >= 0 else None


def variable_promql(query: str) -> str | None:
    """The PromQL inside a Prometheus variable query (None: a label or metric name lookup)."""
    query = query.strip()
    m = _VAR_QUERY.fullmatch(query)
    if m is None:
        return query or None  # a bare series selector
    func, args = m[1], m[2].strip()
    if func == "query_result":
        return args or None
    if func != "label_values":
        return None
    depth, comma = 0, -1
    for tok in promql.tokenize(args):
        depth += tok.text in "([{" and tok.kind == "punct"
        depth -= tok.text in ")]}" and tok.kind == "punct"
        if depth == 0 and tok.is_(","):
            comma = tok.start
    return (args[:comma].strip() or None) if comma >= 0 else None


def lint_dashboard(file: str, data: Any, text: str = "") -> DashboardCheck:
    """Structural findings and the PromQL queries of one dashboard (parsed JSON ``data``)."""
    dash = unwrap(data)
    if not isinstance(dash, dict):
        kind = type(dash).__name__
        return DashboardCheck(file, [Finding(file, "schema", f"expected an object, got {kind}")])
    return _Linter(file, dash, text).run()
