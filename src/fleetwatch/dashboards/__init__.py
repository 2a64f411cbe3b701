"""Dashboards as code: YAML (and grafanalib ``*.dashboard.py``) -> Grafana JSON.

``build_dashboards(src_dir, out_dir)`` is the entry point of ``fleetwatch build``; see
``README.md`` in this package for the YAML format.
"""

from __future__ import annotations

from fleetwatch.dashboards.pipeline import (
    Built,
    build_dashboards,
    compile_dashboard,
    compile_dashboards,
    dashboard_uid,
    discover,
)

__all__ = [
    "Built",
    "build_dashboards",
    "compile_dashboard",
    "compile_dashboards",
    "dashboard_uid",
    "discover",
]
