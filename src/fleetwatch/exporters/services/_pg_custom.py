"""Custom SQL → gauges or counters, as postgres_exporter's custom queries: pure functions.

``params["queries"]`` becomes ``CustomQuery`` objects before the probe connects (a bad item is
a ``ParseError``); each query's rows become ``<name>_<column>`` samples, its ``label`` columns
the labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.services._pg_metrics import Row, to_float, to_label

NAME_RE = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


@dataclass(frozen=True)
class CustomMetric:
    column: str
    usage: str  # gauge | counter | label | discard
    help: str


@dataclass(frozen=True)
class CustomQuery:
    name: str
    query: str
    metrics: tuple[CustomMetric, ...]

    @property
    def label_columns(self) -> tuple[str, ...]:
        return tuple(m.column for m in self.metrics if m.usage == "label")

    def spec(self, metric: CustomMetric) -> Spec:
        make = counter if metric.usage == "counter" else gauge
        return make(
            f"{self.name}_{metric.column}",
            metric.help or f"{self.name} {metric.column}",
            *self.label_columns,
        )


def parse_custom_queries(raw: object) -> list[CustomQuery]:
    """``params["queries"]``: [{name, query, metrics: [{column, usage, help}]}].  Also takes
    postgres_exporter's own item shape ``{column: {usage: GAUGE, description: ...}}``."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ParseError("queries", "expected a list")
    out: list[CustomQuery] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ParseError("queries", f"item {i}: expected a mapping")
        name, query, metrics = item.get("name"), item.get("query"), item.get("metrics")
        if not isinstance(name, str) or not re.match(NAME_RE, name):
            raise ParseError("queries", f"item {i}: name must match {NAME_RE}")
        if not isinstance(query, str) or not query.strip():
            raise ParseError("queries", f"{name}: query must be a non-empty string")
        if not isinstance(metrics, Sequence) or isinstance(metrics, str) or not metrics:
            raise ParseError("queries", f"{name}: metrics must be a non-empty list")
        parsed = tuple(_custom_metric(name, m) for m in metrics)
        out.append(CustomQuery(name, query, parsed))
    return out


def _custom_metric(query: str, item: object) -> CustomMetric:
    if not isinstance(item, Mapping):
        raise ParseError("queries", f"{query}: each metric must be a mapping")
    if "column" not in item and len(item) == 1:  # postgres_exporter's {col: {usage, ...}}
        ((column, body),) = item.items()
        body = body if isinstance(body, Mapping) else {}
        item = {
            "column": column,
            "usage": body.get("usage", "gauge"),
            "help": body.get("description", ""),
        }
    column, usage = item.get("column"), str(item.get("usage", "gauge")).lower()
    if not isinstance(column, str) or not re.match(NAME_RE, column):
        raise ParseError("queries", f"{query}: column must match {NAME_RE}")
    if usage not in ("gauge", "counter", "label", "discard"):
        raise ParseError("queries", f"{query}.{column}: unknown usage {usage!r}")
    return CustomMetric(column, usage, str(item.get("help", "") or ""))


def add_custom(fams: Families, query: CustomQuery, rows: Iterable[Row]) -> None:
    for row in rows:
        labels = tuple(to_label(row.get(c)) for c in query.label_columns)
        for metric in query.metrics:
            if metric.usage in ("label", "discard"):
                continue
            if metric.column not in row:
                raise ParseError(query.name, f"the query returns no column {metric.column!r}")
            fams.add(query.spec(metric), to_float(row[metric.column]), *labels)
