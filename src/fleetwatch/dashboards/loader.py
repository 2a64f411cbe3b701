"""Load a dashboard YAML file into the typed model, reporting every problem at once.

Steps: parse with positions (``inventory.yamlpos``) -> JSON Schema (``schema.json``) ->
semantic checks (units, titles, query refs, variables, links, grid) -> ``model.Dashboard``.
Every problem is a ``ConfigError`` with file, line and key path; all of them are raised
together as ``ConfigErrors``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator

from fleetwatch.config.findings import Findings, string_keys
from fleetwatch.config.inputs import read_input
from fleetwatch.config.schema import schema_messages
from fleetwatch.config.yamlpos import Document, load_yaml
from fleetwatch.dashboards import checks
from fleetwatch.dashboards.model import (
    Dashboard,
    DashboardLink,
    Datasource,
    Grid,
    Link,
    Panel,
    Query,
    Threshold,
    ValueMapping,
    Variable,
)
from fleetwatch.errors import ConfigError, ConfigErrors


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a dashboard YAML file."""
    text = resources.files("fleetwatch.dashboards").joinpath("schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _validator() -> Any:
    return Draft202012Validator(schema())


def load_dashboard(path: Path, name: str | None = None) -> Dashboard:
    """Read and validate the dashboard YAML at ``path`` (``name`` is used in messages)."""
    file = name or str(path)
    try:
        text = read_input(path, "dashboard file")
    except ConfigError as exc:  # named as the caller names the file
        raise ConfigError(file, exc.detail, exc.line) from None
    return dashboard_from_text(text, file)


def dashboard_from_text(text: str, file: str = "<string>") -> Dashboard:
    """Validate and build a dashboard from YAML ``text``; raise ``ConfigErrors`` listing all."""
    try:
        doc = load_yaml(text, file)
    except ConfigError as exc:
        raise ConfigErrors([exc]) from None
    findings = Findings(file, doc)
    if not isinstance(doc.data, dict):
        findings.add((), "a dashboard file must be a mapping with at least 'title:' and 'panels:'")
        raise findings.error()
    data = string_keys(doc.data, (), findings)
    for error in _validator().iter_errors(data):
        for path, message in schema_messages(error):
            findings.add(path, message)
    if not findings:
        checks.check(data, findings)
    if findings:
        raise findings.error()
    return _build(data, doc, file)


# --------------------------------------------------------------------------- model building


def _build(data: dict[str, Any], doc: Document, file: str) -> Dashboard:
    time = data.get("time", {})
    return Dashboard(
        title=data["title"],
        uid=data.get("uid"),
        description=data.get("description", ""),
        tags=tuple(data.get("tags", ())),
        refresh=data.get("refresh", "30s") or "",
        time_from=time.get("from", "now-6h"),
        time_to=time.get("to", "now"),
        time_options=tuple(data.get("time_options", ())),
        timezone=data.get("timezone", "browser"),
        variables=tuple(_variable(v) for v in data.get("variables", ())),
        links=tuple(_dashboard_link(v) for v in data.get("links", ())),
        panels=tuple(
            _panel(p, doc.line(("panels", i))) for i, p in enumerate(data.get("panels", ()))
        ),
        file=file,
    )


def _variable(v: dict[str, Any]) -> Variable:
    kind = v.get("type", "datasource" if v["name"] == "datasource" else "query")
    include_all = bool(v.get("include_all", False))
    all_value = v.get("all_value", ".+" if include_all and kind == "query" else None)
    query = v.get("query", "prometheus" if kind == "datasource" else "")
    return Variable(
        name=v["name"],
        type=kind,
        label=v.get("label", ""),
        description=v.get("description", ""),
        query=query,
        values=tuple(str(x) for x in v.get("values", ())),
        multi=bool(v.get("multi", False)),
        include_all=include_all,
        all_value=all_value,
        current=None if v.get("current") is None else str(v["current"]),
        regex=v.get("regex", ""),
        sort=v.get("sort", 1),
        hide=v.get("hide", "none"),
    )


def _dashboard_link(v: dict[str, Any]) -> DashboardLink:
    return DashboardLink(
        title=v["title"],
        url=v.get("url", ""),
        tags=tuple(v.get("tags", ())),
        as_dropdown=v.get("as_dropdown", False),
        include_vars=v.get("include_vars", True),
        keep_time=v.get("keep_time", True),
        new_tab=v.get("new_tab", False),
        icon=v.get("icon", "dashboard" if v.get("tags") else "external link"),
    )


def _link(v: dict[str, Any]) -> Link:
    url = v.get("url") or checks.explore_url(v["explore"])
    return Link(title=v["title"], url=url, new_tab=v.get("new_tab", "explore" in v))


def _panel(p: dict[str, Any], line: int) -> Panel:
    ds = p.get("datasource")
    return Panel(
        type=p["type"],
        title=p.get("title", ""),
        description=p.get("description", ""),
        unit=p.get("unit"),
        queries=_queries(p),
        thresholds=tuple(Threshold(t.get("value"), t["color"]) for t in p.get("thresholds", ())),
        mappings=tuple(
            ValueMapping(_mapping_key(m["value"]), m["text"], m.get("color"))
            for m in p.get("mappings", ())
        ),
        min=p.get("min"),
        max=p.get("max"),
        decimals=p.get("decimals"),
        grid=Grid(**p.get("grid", {})),
        links=tuple(_link(v) for v in p.get("links", ())),
        data_links=tuple(_link(v) for v in p.get("data_links", ())),
        sparkline=p.get("sparkline", False),
        time_from=p.get("time_from"),
        content=p.get("content", ""),
        collapsed=p.get("collapsed", False),
        datasource=Datasource(ds["type"], ds["uid"]) if ds else None,
        options=p.get("options", {}),
        field_config=p.get("field_config", {}),
        overrides=tuple(p.get("overrides", ())),
        transformations=tuple(p["transformations"]) if "transformations" in p else None,
        donut=p.get("donut", False),
        slice_labels=tuple(p.get("slice_labels", ("percent",))),
        line=line,
    )


def _mapping_key(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _queries(p: dict[str, Any]) -> tuple[Query, ...]:
    default_format = "table" if p["type"] == "table" else "time_series"
    # a pie shows one value per slice: an instant query is all it needs
    default_instant = p["type"] == "pie"
    raw = p.get("queries")
    if raw is None:
        if "expr" not in p:
            return ()
        raw = [{k: p[k] for k in ("expr", "legend", "instant", "format") if k in p}]
    used = {q["ref"] for q in raw if "ref" in q}
    refs = (r for r in _ref_names() if r not in used)
    out = []
    for q in raw:
        fmt = q.get("format", default_format)
        out.append(
            Query(
                expr=q["expr"].strip(),
                ref=q.get("ref") or next(refs),
                legend=q.get("legend", ""),
                instant=q.get("instant", fmt == "table" or default_instant),
                format=fmt,
                unit=q.get("unit"),
                hide=q.get("hide", False),
            )
        )
    return tuple(out)


def _ref_names() -> list[str]:
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    return letters + [a + b for a in letters for b in letters]
