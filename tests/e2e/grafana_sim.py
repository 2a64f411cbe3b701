"""What Grafana does with a dashboard's queries before they reach Prometheus: template variables
resolved (label_values against the real Prometheus, All → allValue or the alternation of the
values) and the $__ macros substituted; used by the end-to-end panel tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

MACROS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m", "__range_s": "300"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", re.S)

#: an instant query against Prometheus: the ``result`` list of /api/v1/query
Query = Callable[[str], list[dict[str, Any]]]


class Grafana:
    """A dashboard's variables resolved against Prometheus, in the order Grafana does."""

    def __init__(self, query: Query, dashboard: dict[str, Any]) -> None:
        self.query = query
        self.values: dict[str, str] = {}
        for var in dashboard.get("templating", {}).get("list", []):
            self.values[var["name"]] = self._resolve(var)

    def _resolve(self, var: dict[str, Any]) -> str:
        if var.get("type") == "datasource":
            return "fleetwatch-prometheus"
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        m = _LABEL_VALUES.fullmatch(query or "")
        if var.get("type") != "query" or m is None:
            current = var.get("current", {}).get("value") or query or ".+"
            return str(current[0] if isinstance(current, list) else current).split(",")[0]
        label = m.group(2)
        found = self.query(f"group by ({label}) ({self.substitute(m.group(1))})")
        values = sorted(str(r["metric"].get(label, "")) for r in found)
        if not values:
            raise AssertionError(f"variable {var['name']}: {query} has no values")
        if var.get("includeAll") or var.get("multi"):
            return str(var.get("allValue") or "(" + "|".join(map(re.escape, values)) + ")")
        return values[0]

    def substitute(self, expr: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2) or m.group(3)
            return MACROS.get(name, self.values.get(name, m.group(0)))

        return _VARIABLE.sub(one, expr)


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))
