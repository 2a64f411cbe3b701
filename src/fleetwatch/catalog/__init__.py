"""Metric catalogs: fleetwatch's own series (``known_series``) and the world's.

The world: catalogs of the exporters users run, shipped as data (``shipped()``), the user's
own files (``load_catalog``: YAML or a saved ``/metrics`` text), a live Prometheus
(``from_prometheus``) and what an inventory defines (``inventory_catalog``).
"""

from __future__ import annotations

from fleetwatch.catalog.inventory import inventory_catalog
from fleetwatch.catalog.live import from_prometheus
from fleetwatch.catalog.loaders import load_catalog
from fleetwatch.catalog.model import Catalog, Metric, MetricType
from fleetwatch.catalog.own import PROMETHEUS_SERIES, known_series, module_specs
from fleetwatch.catalog.shipped import shipped, shipped_catalog, shipped_names

__all__ = [
    "PROMETHEUS_SERIES",
    "Catalog",
    "Metric",
    "MetricType",
    "from_prometheus",
    "inventory_catalog",
    "known_series",
    "load_catalog",
    "module_specs",
    "shipped",
    "shipped_catalog",
    "shipped_names",
]
