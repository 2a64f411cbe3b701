"""Angular panels (removed in Grafana 12) -> their React replacements, or a clear refusal.

``convert(panel, name)`` returns the panel unchanged when it is not Angular, a converted copy
for ``graph`` -> ``timeseries``, ``singlestat`` -> ``stat`` and ``table-old`` -> ``table``,
and raises ``ValueError`` (with a message naming the panel) for what cannot be converted.
"""

from __future__ import annotations

from typing import Any

#: Angular panel plugins with no automatic conversion
REJECTED = frozenset(
    {
        "grafana-piechart-panel",
        "grafana-worldmap-panel",
        "natel-discrete-panel",
        "flant-statusmap-panel",
        "grafana-singlestat-panel",
    }
)
#: keys every panel type keeps through a conversion
_KEPT = (
    "id", "title", "description", "gridPos", "datasource", "targets", "links",
    "transparent", "repeat", "repeatDirection", "maxPerRow", "interval", "timeFrom",
    "timeShift", "hideTimeOverride", "transformations", "maxDataPoints",
)  # fmt: skip
_CALCS = {
    "avg": "mean", "current": "lastNotNull", "max": "max", "min": "min", "total": "sum",
    "first": "firstNotNull", "delta": "delta", "diff": "diff", "range": "range", "name": "last",
}  # fmt: skip


def convert(panel: dict[str, Any], name: str) -> dict[str, Any]:
    kind = panel.get("type")
    if kind in REJECTED:
        raise ValueError(f"{name}: Angular panel type {kind!r} is not supported by Grafana 12")
    if kind == "graph":
        return _graph(panel, name)
    if kind == "singlestat":
        return _singlestat(panel, name)
    if kind == "table-old":
        return _table_old(panel, name)
    return panel


def _base(panel: dict[str, Any], kind: str) -> dict[str, Any]:
    out = {k: panel[k] for k in _KEPT if k in panel}
    out["type"] = kind
    return out


def _defaults(panel: dict[str, Any]) -> dict[str, Any]:
    return dict((panel.get("fieldConfig") or {}).get("defaults") or {})


def _graph(panel: dict[str, Any], name: str) -> dict[str, Any]:
    if panel.get("seriesOverrides"):
        raise ValueError(
            f"{name}: an Angular graph with seriesOverrides cannot be converted; "
            "use grafanalib's TimeSeries with overrides"
        )
    if panel.get("alert") or panel.get("thresholds"):
        raise ValueError(f"{name}: an Angular graph with alert or thresholds cannot be converted")
    out = _base(panel, "timeseries")
    yaxes = panel.get("yaxes") or [{}]
    left = yaxes[0] if isinstance(yaxes[0], dict) else {}
    defaults = _defaults(panel)
    defaults["unit"] = defaults.get("unit") or left.get("format") or ""
    for key in ("min", "max", "decimals"):
        if left.get(key) is not None:
            defaults[key] = left[key]
    lines, bars, points = panel.get("lines", True), panel.get("bars"), panel.get("points")
    draw = "bars" if bars and not lines else "points" if points and not lines else "line"
    defaults["custom"] = {
        "drawStyle": draw,
        "lineWidth": panel.get("linewidth", 1),
        "fillOpacity": min(int(panel.get("fill", 1) or 0) * 10, 100),
        "showPoints": "always" if points else "never",
        "spanNulls": panel.get("nullPointMode") == "connected",
        "stacking": {"mode": "normal" if panel.get("stack") else "none", "group": "A"},
    } | (defaults.get("custom") or {})
    defaults.setdefault("color", {"mode": "palette-classic"})
    out["fieldConfig"] = {"defaults": defaults, "overrides": []}
    legend = panel.get("legend") or {}
    calcs = [c for k, c in _CALCS.items() if k != "name" and legend.get(k)]
    tooltip = panel.get("tooltip") or {}
    out["options"] = {
        "legend": {
            "showLegend": legend.get("show", True),
            "displayMode": "table" if legend.get("alignAsTable") else "list",
            "placement": "right" if legend.get("rightSide") else "bottom",
            "calcs": calcs,
        },
        "tooltip": {
            "mode": "multi" if tooltip.get("shared", True) else "single",
            "sort": {1: "asc", 2: "desc"}.get(tooltip.get("sort") or 0, "none"),
        },
    }
    return out


def _singlestat(panel: dict[str, Any], name: str) -> dict[str, Any]:
    if panel.get("valueMaps") or panel.get("rangeMaps"):
        raise ValueError(
            f"{name}: an Angular singlestat with value/range maps cannot be converted; "
            "use grafanalib's Stat with mappings"
        )
    out = _base(panel, "stat")
    defaults = _defaults(panel)
    defaults["unit"] = defaults.get("unit") or panel.get("format") or ""
    if panel.get("decimals") is not None:
        defaults["decimals"] = panel["decimals"]
    colors = list(panel.get("colors") or ["green", "orange", "red"])
    levels = [s.strip() for s in str(panel.get("thresholds") or "").split(",") if s.strip()]
    steps: list[dict[str, Any]] = [{"color": colors[0], "value": None}]
    for i, level in enumerate(levels[:2]):
        steps.append({"color": colors[min(i + 1, len(colors) - 1)], "value": float(level)})
    defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    defaults.setdefault("color", {"mode": "thresholds"})
    out["fieldConfig"] = {"defaults": defaults, "overrides": []}
    sparkline = (panel.get("sparkline") or {}).get("show", False)
    color_mode = "background" if panel.get("colorBackground") else "value"
    out["options"] = {
        "reduceOptions": {
            "calcs": [_CALCS.get(panel.get("valueName") or "avg", "mean")],
            "fields": "",
            "values": False,
        },
        "graphMode": "area" if sparkline else "none",
        "colorMode": color_mode
        if panel.get("colorValue") or panel.get("colorBackground")
        else "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto",
    }
    return out


def _table_old(panel: dict[str, Any], name: str) -> dict[str, Any]:
    if panel.get("transform") not in (None, "", "table", "timeseries_to_columns"):
        raise ValueError(
            f"{name}: an Angular table with transform {panel['transform']!r} cannot be "
            "converted; use a table panel with transformations"
        )
    out = _base(panel, "table")
    defaults = _defaults(panel)
    styles = [s for s in panel.get("styles") or [] if isinstance(s, dict)]
    catch_all = [s for s in styles if s.get("pattern") in ("/.*/", ".*")]
    unit = catch_all[0].get("unit") if catch_all else None
    defaults["unit"] = defaults.get("unit") or unit or "short"
    out["fieldConfig"] = {"defaults": defaults, "overrides": []}
    out["options"] = {"showHeader": panel.get("showHeader", True), "cellHeight": "sm"}
    return out
