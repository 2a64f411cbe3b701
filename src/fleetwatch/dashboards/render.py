"""Model -> Grafana dashboard JSON (a dict), before the shared ``normalize`` step."""

from __future__ import annotations

from typing import Any

from fleetwatch.dashboards.layout import Box, Request, place
from fleetwatch.dashboards.model import (
    GRAFANA_TYPES,
    Dashboard,
    DashboardLink,
    Link,
    Panel,
    Query,
    Variable,
)

PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
_HIDE = {"none": 0, "label": 1, "variable": 2}
_REFRESH_ON_TIME_RANGE_CHANGE = 2
_REDUCE = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def render(dash: Dashboard) -> dict[str, Any]:
    requests = [Request(p.type, p.grid, p.title or p.type) for p in dash.panels]
    boxes, _ = place(requests)  # the loader has reported any problem already
    panels = _nest(
        [_panel(p, box, i + 1) for i, (p, box) in enumerate(zip(dash.panels, boxes, strict=True))]
    )
    timepicker: dict[str, Any] = {}
    if dash.time_options:
        timepicker["time_options"] = list(dash.time_options)
        timepicker["quick_ranges"] = [
            {"display": f"Last {d}", "from": f"now-{d}", "to": "now"} for d in dash.time_options
        ]
    out: dict[str, Any] = {
        "title": dash.title,
        "description": dash.description,
        "tags": list(dash.tags),
        "refresh": dash.refresh,
        "time": {"from": dash.time_from, "to": dash.time_to},
        "timepicker": timepicker,
        "timezone": dash.timezone,
        "editable": True,
        "graphTooltip": 1,
        "links": [_dashboard_link(link) for link in dash.links],
        "templating": {"list": [_variable(v) for v in dash.variables]},
        "annotations": {"list": []},
        "panels": panels,
    }
    if dash.uid:
        out["uid"] = dash.uid
    return out


def _nest(flat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grafana's row model: a collapsed row carries its panels in ``row.panels``.

    An expanded row has ``panels: []`` and its panels follow it at the top level.  A collapsed
    row's panels keep the positions they have when it is expanded (just below the row, as
    Grafana saves them); everything after a collapsed row moves up by the height it hides.
    """
    out: list[dict[str, Any]] = []
    row: dict[str, Any] | None = None  # the collapsed row being filled
    shift = 0  # grid units hidden by the collapsed rows so far

    def close() -> None:
        nonlocal shift
        if row is None:
            return
        top = row["gridPos"]["y"] + 1
        bottom = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in row["panels"]), default=top)
        shift += max(bottom - top, 0)

    for panel in flat:
        grid = panel["gridPos"]
        if panel["type"] == "row":
            close()
            grid["y"] -= shift
            out.append(panel)
            row = panel if panel["collapsed"] else None
        elif row is not None:
            grid["y"] -= shift  # the row above moved by the same amount
            row["panels"].append(panel)
        else:
            grid["y"] -= shift
            out.append(panel)
    return out


# --------------------------------------------------------------------------- variables, links


def _variable(v: Variable) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": v.name,
        "type": v.type,
        "label": v.label or ("Data source" if v.type == "datasource" else v.name),
        "description": v.description,
        "hide": _HIDE[v.hide],
        "skipUrlSync": False,
    }
    if v.type == "query":
        out |= {
            "datasource": dict(PROMETHEUS),
            "query": {"query": v.query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": v.query,
            "refresh": _REFRESH_ON_TIME_RANGE_CHANGE,
            "regex": v.regex,
            "sort": v.sort,
            "options": [],
            "current": {},
        }
    elif v.type in ("custom", "interval"):
        values = list(v.values)
        current = v.current if v.current is not None else values[0]
        out |= {
            "query": ",".join(values),
            "options": [{"text": x, "value": x, "selected": x == current} for x in values],
            "current": {"text": current, "value": current, "selected": True},
        }
        if v.type == "interval":
            out |= {"auto": False, "auto_count": 30, "auto_min": "10s", "refresh": 2}
    elif v.type == "datasource":
        out |= {"query": v.query, "regex": v.regex, "refresh": 1, "options": [], "current": {}}
    else:  # textbox, constant
        value = v.current if v.current is not None else v.query
        out |= {"query": value, "current": {"text": value, "value": value}}
    if v.type in ("query", "custom"):
        out |= {"multi": v.multi, "includeAll": v.include_all, "allValue": v.all_value}
        if v.include_all and v.current is None:
            out["current"] = {"text": ["All"], "value": ["$__all"], "selected": True}
    return out


def _dashboard_link(link: DashboardLink) -> dict[str, Any]:
    return {
        "title": link.title,
        "type": "dashboards" if link.tags else "link",
        "url": link.url,
        "tags": list(link.tags),
        "asDropdown": link.as_dropdown,
        "includeVars": link.include_vars,
        "keepTime": link.keep_time,
        "targetBlank": link.new_tab,
        "icon": link.icon,
        "tooltip": "",
    }


def _link(link: Link) -> dict[str, Any]:
    return {"title": link.title, "url": link.url, "targetBlank": link.new_tab}


# --------------------------------------------------------------------------- panels


def _panel(p: Panel, box: Box, panel_id: int) -> dict[str, Any]:
    grid = {"x": box.x, "y": box.y, "w": box.w, "h": box.h}
    kind = GRAFANA_TYPES.get(p.type, p.type)
    out: dict[str, Any] = {"id": panel_id, "type": kind, "title": p.title, "gridPos": grid}
    if p.type == "row":
        return out | {"collapsed": p.collapsed, "panels": []}
    out["description"] = p.description
    if p.time_from is not None:
        out["timeFrom"] = p.time_from
    if p.links:
        out["links"] = [_link(link) for link in p.links]
    if p.type == "text":
        out["options"] = {"mode": "markdown", "content": p.content} | dict(p.options)
        return out
    if p.type == "alertlist":
        out["options"] = _ALERTLIST | dict(p.options)
        return out
    out["datasource"] = _datasource(p)
    out["targets"] = [_target(q, p) for q in p.queries]
    out["fieldConfig"] = {"defaults": _defaults(p), "overrides": _overrides(p)}
    out["options"] = _deep_merge(_options(p), dict(p.options))
    transformations = _transformations(p)
    if transformations:
        out["transformations"] = transformations
    return out


def _datasource(p: Panel) -> dict[str, str]:
    return {"type": p.datasource.type, "uid": p.datasource.uid} if p.datasource else PROMETHEUS


def _target(q: Query, p: Panel) -> dict[str, Any]:
    target: dict[str, Any] = {
        "datasource": dict(_datasource(p)),
        "expr": q.expr,
        "refId": q.ref,
        "legendFormat": q.legend or ("__auto" if q.format == "time_series" else ""),
        "format": q.format,
        "instant": q.instant,
        "range": not q.instant,
        "editorMode": "code",
    }
    if q.hide:
        target["hide"] = True
    return target


def _defaults(p: Panel) -> dict[str, Any]:
    steps = [{"value": t.value, "color": t.color} for t in p.thresholds] or [
        {"value": None, "color": "green"}
    ]
    defaults: dict[str, Any] = {
        "unit": p.unit,
        "thresholds": {"mode": "absolute", "steps": steps},
        "color": {"mode": "palette-classic" if p.type in _PALETTE else "thresholds"},
        "mappings": _mappings(p),
        "custom": _CUSTOM.get(p.type, {}),
    }
    for key in ("min", "max", "decimals"):
        if getattr(p, key) is not None:
            defaults[key] = getattr(p, key)
    if p.data_links:
        defaults["links"] = [_link(link) for link in p.data_links]
    return _deep_merge(defaults, dict(p.field_config))


def _mappings(p: Panel) -> list[dict[str, Any]]:
    if not p.mappings:
        return []
    options: dict[str, Any] = {}
    for index, m in enumerate(p.mappings):
        result: dict[str, Any] = {"text": m.text, "index": index}
        if m.color:
            result["color"] = m.color
        options[m.value] = result
    return [{"type": "value", "options": options}]


def _overrides(p: Panel) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for q in p.queries:
        props: list[dict[str, Any]] = []
        if q.unit:
            props.append({"id": "unit", "value": q.unit})
        if p.type == "table" and q.legend:
            props.append({"id": "displayName", "value": q.legend})
        if props:
            if p.type == "table":
                name = "Value" if len(p.queries) == 1 else f"Value #{q.ref}"
                matcher = {"id": "byName", "options": name}
            else:
                matcher = {"id": "byFrameRefID", "options": q.ref}
            out.append({"matcher": matcher, "properties": props})
    return out + [dict(o) for o in p.overrides]


def _transformations(p: Panel) -> list[dict[str, Any]]:
    if p.transformations is not None:
        return [dict(t) for t in p.transformations]
    if p.type != "table" or not all(q.format == "table" for q in p.queries):
        return []
    out: list[dict[str, Any]] = [{"id": "merge", "options": {}}] if len(p.queries) > 1 else []
    return [*out, {"id": "organize", "options": {"excludeByName": {"Time": True}}}]


def _options(p: Panel) -> dict[str, Any]:
    if p.type == "timeseries":
        return {
            "legend": {
                "showLegend": True,
                "displayMode": "list",
                "placement": "bottom",
                "calcs": [],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    if p.type == "stat":
        return {
            "reduceOptions": dict(_REDUCE),
            "graphMode": "area" if p.sparkline else "none",
            "colorMode": "value",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": True,
            "showPercentChange": False,
        }
    if p.type == "gauge":
        return {
            "reduceOptions": dict(_REDUCE),
            "showThresholdLabels": False,
            "showThresholdMarkers": True,
        }
    if p.type == "bargauge":
        return {
            "reduceOptions": dict(_REDUCE),
            "displayMode": "gradient",
            "orientation": "horizontal",
            "showUnfilled": True,
            "valueMode": "color",
            "namePlacement": "auto",
        }
    if p.type == "pie":
        # slices from the queries' series (one per label set), each reduced to its last value
        return {
            "reduceOptions": dict(_REDUCE),
            "pieType": "donut" if p.donut else "pie",
            "displayLabels": list(p.slice_labels),
            "legend": {
                "showLegend": True,
                "displayMode": "table",
                "placement": "right",
                "values": ["value", "percent"],
            },
            "tooltip": {"mode": "single", "sort": "none"},
        }
    if p.type == "table":
        return {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    if p.type == "nodeGraph":
        # frames: nodes (id, title, mainstat, color) and edges (id, source, target)
        return {"nodes": {"mainStatUnit": p.unit}, "edges": {}}
    if p.type == "heatmap":
        return {
            "calculate": False,
            "yAxis": {"unit": p.unit},
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "cellGap": 1,
            "tooltip": {"mode": "single", "yHistogram": False},
        }
    return {  # state-timeline
        "showValue": "auto",
        "mergeValues": True,
        "alignValue": "left",
        "rowHeight": 0.9,
        "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
    }


_CUSTOM: dict[str, dict[str, Any]] = {
    "timeseries": {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "showPoints": "never",
        "spanNulls": False,
        "axisSoftMin": 0,
    },
    "state-timeline": {"fillOpacity": 70, "lineWidth": 0},
    "pie": {"hideFrom": {"legend": False, "tooltip": False, "viz": False}},
}
#: panel types coloured per series (slices, lines), not by thresholds
_PALETTE = frozenset({"timeseries", "pie"})
_ALERTLIST = {
    "viewMode": "list",
    "groupMode": "default",
    "maxItems": 20,
    "sortOrder": 1,
    "stateFilter": {"firing": True, "pending": True, "noData": False, "normal": False},
}


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
