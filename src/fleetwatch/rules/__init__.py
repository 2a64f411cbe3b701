"""Alert and recording rules as code: rules/*.yaml -> Prometheus rule files + promtool tests.

See ``rules/README.md`` at the top of the content for the YAML form.
"""

from __future__ import annotations

from fleetwatch.rules.dashboards import slo_dashboards
from fleetwatch.rules.pipeline import build_rules, down_alerts

__all__ = ["build_rules", "down_alerts", "slo_dashboards"]
