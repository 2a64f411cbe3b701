"""Problems the loader reports beyond the schema: the semantic checks of a dashboard.

``Findings`` (fleetwatch.config.findings) collects ``ConfigError``s for one file; ``check`` adds
cross-field problem the schema cannot express (units, titles, refs, variables, links, grid).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from fleetwatch.config.findings import Findings
from fleetwatch.config.schema import hint
from fleetwatch.config.yamlpos import JsonPath
from fleetwatch.dashboards.layout import Request, place
from fleetwatch.dashboards.model import DATA_TYPES, UNTITLED_TYPES, Grid

UNIT_HINT = "a Grafana unit id such as percentunit, percent, bytes, Bps, s, short or none"
_VAR_REF = re.compile(r"\$(?:\{(\w+)(?::[\w-]+)?\}|\[\[(\w+)\]\]|(\w+))")


def explore_url(spec: dict[str, Any]) -> str:
    """A Grafana Explore URL running ``expr`` on datasource ``uid`` over the dashboard's range."""
    ds = {"type": spec.get("type", "loki"), "uid": spec["datasource"]}
    pane = {
        "datasource": spec["datasource"],
        "queries": [{"refId": "A", "expr": spec["expr"], "datasource": ds}],
        "range": {"from": "${__from}", "to": "${__to}"},
    }
    panes = json.dumps({"fw": pane}, separators=(",", ":"), sort_keys=True)
    return "/explore?schemaVersion=1&orgId=1&panes=" + quote(panes, safe="${}:,_")


# --------------------------------------------------------------------------- schema messages


# --------------------------------------------------------------------------- semantic checks


def check(data: dict[str, Any], findings: Findings) -> None:
    names = _check_variables(data.get("variables", []), findings)
    for i, link in enumerate(data.get("links", [])):
        if ("url" in link) == ("tags" in link):
            findings.add(("links", i), "a dashboard link needs either 'url' or 'tags'")
    panels = data.get("panels", [])
    for i, panel in enumerate(panels):
        _check_panel(panel, ("panels", i), names, findings)
    requests = [
        Request(p["type"], Grid(**p.get("grid", {})), _panel_name(p, i))
        for i, p in enumerate(panels)
    ]
    for problem in place(requests)[1]:
        findings.add(("panels", problem.index, "grid"), problem.message)


def _panel_name(panel: dict[str, Any], index: int) -> str:
    title = panel.get("title")
    return f"panel {title!r} (panels[{index}])" if title else f"panels[{index}]"


def _check_variables(variables: list[dict[str, Any]], findings: Findings) -> set[str]:
    names: set[str] = {"datasource"}
    seen: dict[str, int] = {}
    for i, v in enumerate(variables):
        path: JsonPath = ("variables", i)
        name = v["name"]
        if name in seen:
            findings.add(
                (*path, "name"), f"duplicate variable {name!r} (also variables[{seen[name]}])"
            )
        seen.setdefault(name, i)
        names.add(name)
        kind = v.get("type", "datasource" if name == "datasource" else "query")
        if name == "datasource" and kind != "datasource":
            findings.add((*path, "type"), "the variable 'datasource' must be of type datasource")
        if kind == "query" and "query" not in v:
            findings.add(path, "a query variable needs 'query', e.g. label_values(up, instance)")
        if kind in ("custom", "interval") and "values" not in v:
            findings.add(path, f"a {kind} variable needs 'values'")
        if kind == "constant" and "query" not in v:
            findings.add(path, "a constant variable needs 'query' (its value)")
        for key in ("multi", "include_all", "all_value"):
            if key in v and kind not in ("query", "custom"):
                findings.add((*path, key), f"{key!r} only applies to query and custom variables")
    for i, v in enumerate(variables):
        _check_refs(v.get("query", ""), ("variables", i, "query"), names, findings)
    return names


def _check_refs(text: str, path: JsonPath, names: set[str], findings: Findings) -> None:
    for match in _VAR_REF.finditer(text):
        name = next(g for g in match.groups() if g)
        if not name.startswith("__") and name not in names:
            findings.add(path, f"unknown variable ${name}; {hint(name, sorted(names))}")


def _check_panel(p: dict[str, Any], path: JsonPath, names: set[str], f: Findings) -> None:
    kind = p["type"]
    if "title" not in p and kind not in UNTITLED_TYPES:
        f.add(path, f"missing required key 'title' (a {kind} panel needs one)")
    has_queries, has_expr = "queries" in p, "expr" in p
    if kind in DATA_TYPES:
        if "unit" not in p:
            f.add((*path, "unit"), f"a {kind} panel needs a unit: {UNIT_HINT}")
        if has_queries and has_expr:
            f.add((*path, "expr"), "give either 'expr' or 'queries', not both")
        elif not has_queries and not has_expr:
            f.add(path, f"a {kind} panel needs 'expr' or 'queries'")
    else:
        for key in ("queries", "expr", "unit", "thresholds"):
            if key in p:
                f.add((*path, key), f"a {kind} panel has no {key!r}")
    for key in ("legend", "instant", "format"):
        if key in p and not has_expr:
            f.add((*path, key), f"{key!r} goes with 'expr' (or inside each of 'queries')")
    seen: set[str] = set()
    for i, q in enumerate(p.get("queries", [])):
        if q.get("ref") in seen:
            f.add((*path, "queries", i, "ref"), f"duplicate query ref {q['ref']!r}")
        seen.add(q.get("ref", ""))
        _check_refs(q["expr"], (*path, "queries", i, "expr"), names, f)
    if has_expr:
        _check_refs(p["expr"], (*path, "expr"), names, f)
    only_on = (
        ("sparkline", "stat"),
        ("content", "text"),
        ("collapsed", "row"),
        ("donut", "pie"),
        ("slice_labels", "pie"),
    )
    for key, only in only_on:
        if key in p and kind != only:
            f.add((*path, key), f"{key!r} only applies to {only} panels")
    if kind == "text" and "content" not in p:
        f.add(path, "a text panel needs 'content' (markdown)")
    grid = p.get("grid", {})
    if ("x" in grid) != ("y" in grid):
        f.add((*path, "grid"), "give both x and y (an explicit position) or neither (auto-placed)")
    for key in ("links", "data_links"):
        for i, link in enumerate(p.get(key, [])):
            if ("url" in link) == ("explore" in link):
                f.add((*path, key, i), "a link needs either 'url' or 'explore'")
