"""Threshold alerts: the Prometheus alerting rule of each ``alerts:`` entry."""

from __future__ import annotations

from typing import Any

from fleetwatch.rule_names import MAINTENANCE, THRESHOLD
from fleetwatch.rules.model import DEFAULT_HOST_DASHBOARD, Alert, Config
from fleetwatch.rules.shorthands import SHORTHANDS, num

MAINTENANCE_MATCHER = 'maintenance!="true"'
NOT_IN_MAINTENANCE = f"unless on(instance) ({MAINTENANCE} == 1)"
EXPORTER_DASHBOARD = "fw-exporter-health"


def matchers(alert: Alert) -> list[str]:
    """Label matchers put into every selector of a shorthand (scope, maintenance)."""
    shorthand = SHORTHANDS[alert.metric] if alert.metric else None
    if shorthand is None or not shorthand.host:
        return []
    found = [f'{key}="{value}"' for key, value in sorted(alert.scope.items())]
    if not alert.include_maintenance:
        found.append(MAINTENANCE_MATCHER)
    return found


def value_expr(alert: Alert) -> str:
    """The value the threshold applies to (``$value`` of the alert)."""
    if alert.metric is not None:
        return SHORTHANDS[alert.metric].expr(matchers(alert))
    assert alert.expr is not None
    return alert.expr.strip()


def alert_expr(alert: Alert) -> str:
    left = f"({value_expr(alert)})"
    t = alert.threshold
    if t.inventory is not None:
        right = f'on(instance) group_left() {THRESHOLD}{{resource="{t.inventory}"}}'
    else:
        assert t.value is not None
        right = num(t.value)
    expr = f"{left} {alert.op} {right}"
    if alert.expr is not None and not alert.include_maintenance:
        expr = f"({expr}) {NOT_IN_MAINTENANCE}"
    return expr


def has_instance(alert: Alert) -> bool:
    """Whether the alert's labels include ``instance`` (then the dashboard link selects it)."""
    if alert.metric is not None:
        output = SHORTHANDS[alert.metric].output
        return output is None or "instance" in output
    return alert.test is not None and "instance" in alert.test.labels


def dashboard_uid(alert: Alert) -> str:
    if alert.dashboard:
        return alert.dashboard
    if alert.metric is not None and not SHORTHANDS[alert.metric].host:
        return EXPORTER_DASHBOARD
    return DEFAULT_HOST_DASHBOARD


def dashboard_url(config: Config, uid: str, instance: bool) -> str:
    url = f"{config.grafana_url.rstrip('/')}/d/{uid}"
    return url + "?var-instance={{ $labels.instance }}" if instance else url


def runbook_url(config: Config, name: str, override: str | None) -> str:
    if override:
        return override
    assert config.runbook_url_pattern is not None  # the loader requires one
    return config.runbook_url_pattern.replace("{alertname}", name)


def labels(alert: Alert) -> dict[str, str]:
    return {"severity": alert.severity, **dict(sorted(alert.labels.items()))}


def alert_annotations(alert: Alert, config: Config) -> dict[str, str]:
    return {
        "summary": alert.summary,
        "description": alert.description,
        "runbook_url": runbook_url(config, alert.name, alert.runbook),
        "dashboard_url": dashboard_url(config, dashboard_uid(alert), has_instance(alert)),
    }


def alert_rule(alert: Alert, config: Config) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert.name, "expr": alert_expr(alert)}
    if alert.for_seconds > 0:
        rule["for"] = alert.for_
    rule["labels"] = labels(alert)
    rule["annotations"] = alert_annotations(alert, config)
    return rule
