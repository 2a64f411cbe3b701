"""The typed model of a dashboard YAML file (what ``loader`` builds and ``render`` reads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: panel types that show query results: they need queries and a unit
DATA_TYPES = frozenset(
    {
        "stat",
        "timeseries",
        "gauge",
        "bargauge",
        "table",
        "heatmap",
        "state-timeline",
        "nodeGraph",
        "pie",
    }
)
#: YAML panel types whose Grafana type has another name
GRAFANA_TYPES = {"pie": "piechart"}
#: what a pie's slices may show (Grafana's displayLabels)
SLICE_LABELS = ("name", "value", "percent")
#: every panel type a YAML dashboard may use
PANEL_TYPES = DATA_TYPES | {"alertlist", "text", "row"}
#: panel types whose title may be omitted
UNTITLED_TYPES = frozenset({"text", "row"})


@dataclass(frozen=True)
class Grid:
    """A grid request: ``x``/``y`` set = explicit position, else auto-placed with ``w``/``h``."""

    x: int | None = None
    y: int | None = None
    w: int | None = None
    h: int | None = None

    @property
    def explicit(self) -> bool:
        return self.x is not None and self.y is not None


@dataclass(frozen=True)
class Query:
    expr: str
    ref: str
    legend: str = ""
    instant: bool = False
    format: str = "time_series"
    unit: str | None = None  # overrides the panel's unit for this query's fields
    hide: bool = False


@dataclass(frozen=True)
class Threshold:
    value: float | None
    color: str


@dataclass(frozen=True)
class ValueMapping:
    """A value mapping: ``value`` shown as ``text`` (and ``color``)."""

    value: str
    text: str
    color: str | None = None


@dataclass(frozen=True)
class Link:
    """A panel or data link; ``explore`` builds an Explore URL instead of ``url``."""

    title: str
    url: str
    new_tab: bool = False


@dataclass(frozen=True)
class Datasource:
    type: str
    uid: str


@dataclass(frozen=True)
class Panel:
    type: str
    title: str = ""
    description: str = ""
    unit: str | None = None
    queries: tuple[Query, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    mappings: tuple[ValueMapping, ...] = ()
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    grid: Grid = field(default_factory=Grid)
    links: tuple[Link, ...] = ()
    data_links: tuple[Link, ...] = ()
    sparkline: bool = False
    time_from: str | None = None  # the panel's own relative range (Grafana timeFrom)
    content: str = ""
    collapsed: bool = False
    datasource: Datasource | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    field_config: Mapping[str, Any] = field(default_factory=dict)
    overrides: tuple[Mapping[str, Any], ...] = ()
    transformations: tuple[Mapping[str, Any], ...] | None = None
    donut: bool = False  # pie only: a ring instead of a disc
    slice_labels: tuple[str, ...] = ("percent",)  # pie only: shown on each slice
    line: int = 0  # where the panel starts in its file (for messages)


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # query | custom | interval | datasource | textbox | constant
    label: str = ""
    description: str = ""
    query: str = ""
    values: tuple[str, ...] = ()
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    current: str | None = None
    regex: str = ""
    sort: int = 1
    hide: str = "none"  # none | label | variable


@dataclass(frozen=True)
class DashboardLink:
    title: str
    url: str = ""
    tags: tuple[str, ...] = ()
    as_dropdown: bool = False
    include_vars: bool = True
    keep_time: bool = True
    new_tab: bool = False
    icon: str = "external link"


@dataclass(frozen=True)
class Dashboard:
    title: str
    uid: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    refresh: str = "30s"
    time_from: str = "now-6h"
    time_to: str = "now"
    time_options: tuple[str, ...] = ()
    timezone: str = "browser"
    variables: tuple[Variable, ...] = ()
    links: tuple[DashboardLink, ...] = ()
    panels: tuple[Panel, ...] = ()
    file: str = ""
