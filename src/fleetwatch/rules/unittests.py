"""Generated promtool unit tests for threshold alerts.

For a ``metric:`` alert the inputs are the raw series its expression reads (the shorthand's
fixture).  Timeline, in minutes: the value sits on the silent side until ``switch`` (= the
range window + 5), then on the firing side.  Cases: fires at ``switch + lag + for`` with
exact labels and annotations; still pending one minute before ``switch + for``; silent when
the value stays on the silent side; per-host thresholds (inventory) fire on one host and not
the other; a host in maintenance stays silent.  ``expr:`` alerts use their ``test:`` block.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fleetwatch.config.durations import parse_duration
from fleetwatch.rule_names import MAINTENANCE, THRESHOLD
from fleetwatch.rules import templates
from fleetwatch.rules.model import Alert, Config
from fleetwatch.rules.shorthands import SHORTHANDS, Series, Shorthand, gauge, num
from fleetwatch.rules.threshold import alert_annotations, labels

INTERVAL = "1m"
INVENTORY_THRESHOLD = Decimal("0.8")
HOST_JOB = "ssh_15s"
EXPORTER = {"instance": "127.0.0.1:9717", "job": "fleetwatch"}


class CannotTest(ValueError):
    """No test values exist for this threshold (e.g. ``> 1`` on a 0-1 ratio)."""


def _mid(a: Decimal, b: Decimal) -> Decimal:
    return (a + b) / 2


def pick(op: str, t: Decimal, sh: Shorthand) -> tuple[Decimal, Decimal]:
    """(firing value, silent value) for ``value op t`` within the shorthand's range."""
    step = abs(t) / 2 if t != 0 else sh.scale
    above = _mid(t, sh.hi) if sh.hi is not None else t + step
    below = _mid(sh.lo, t) if sh.lo is not None else t - step
    if (sh.hi is not None and t >= sh.hi and op in (">", ">=")) or (
        sh.lo is not None and t <= sh.lo and op in ("<", "<=")
    ):
        raise CannotTest(f"threshold {num(t)} leaves no value of {sh.name} that fires")
    if op in (">", ">="):
        return above, below
    if op in ("<", "<="):
        return below, above
    other = sh.hi if sh.hi is not None and sh.hi != t else above
    return (t, other) if op == "==" else (other, t)


def _host(instance: str, alert: Alert, sh: Shorthand, maintenance: bool = False) -> dict[str, str]:
    if not sh.host:
        return dict(EXPORTER)
    return {
        "instance": instance,
        "job": HOST_JOB,
        "deployment": alert.scope.get("deployment", "prod"),
        "provider": alert.scope.get("provider", "aws"),
        "maintenance": "true" if maintenance else "false",
    }


def _output(host: Mapping[str, str], sh: Shorthand) -> dict[str, str]:
    full = {**host, **sh.extra}
    return full if sh.output is None else {k: full[k] for k in sh.output}


def _threshold_series(alert: Alert, host: Mapping[str, str], t: Decimal, total: int) -> Series:
    if alert.threshold.inventory is None:
        return []
    lab = {k: host[k] for k in ("instance", "deployment", "provider")}
    lab["resource"] = alert.threshold.inventory
    name = THRESHOLD + "{" + ", ".join(f'{k}="{v}"' for k, v in lab.items()) + "}"
    return [(name, gauge(t, t, 0, total))]


def expected(alert: Alert, config: Config, out: Mapping[str, str], value: float) -> dict[str, Any]:
    """One ``exp_alerts`` item: the rule's labels over the result's, annotations expanded."""
    notes = alert_annotations(alert, config)
    return {
        "exp_labels": {**out, **labels(alert)},
        "exp_annotations": {k: templates.expand(v, out, value) for k, v in notes.items()},
    }


def _group(name: str, series: Series, checks: list[tuple[int, str, list[Any]]]) -> dict[str, Any]:
    return {
        "name": name,
        "interval": INTERVAL,
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [
            {"eval_time": f"{at}m", "alertname": alertname, "exp_alerts": exp}
            for at, alertname, exp in checks
        ],
    }


def metric_tests(alert: Alert, config: Config) -> list[dict[str, Any]]:
    assert alert.metric is not None
    sh = SHORTHANDS[alert.metric]
    inventory = alert.threshold.inventory is not None
    t = INVENTORY_THRESHOLD if inventory else alert.threshold.value
    assert t is not None
    fire_v, silent_v = pick(alert.op, t, sh)
    for_min = math.ceil(alert.for_seconds / 60)
    switch = sh.lag + 5
    at = switch + sh.lag + for_min
    total = at + 5
    name = alert.name

    def inputs(host: dict[str, str], before: Decimal, after: Decimal, thr: Decimal) -> Series:
        series, _ = sh.fixture(host, before, after, switch, total, at)
        return series + _threshold_series(alert, host, thr, total)

    a = _host("host-a", alert, sh)
    series, value = sh.fixture(a, silent_v, fire_v, switch, total, at)
    series += _threshold_series(alert, a, t, total)
    fire = expected(alert, config, _output(a, sh), float(value))
    checks: list[tuple[int, str, list[Any]]] = []
    if alert.for_seconds > 0:
        checks.append((switch + for_min - 1, name, []))
    checks.append((at, name, [fire]))
    tests = [
        _group(f"{name}: fires after for ({alert.op} {num(t)})", series, checks),
        _group(
            f"{name}: silent at {num(silent_v)}",
            inputs(a, silent_v, silent_v, t),
            [(at, name, [])],
        ),
    ]
    if inventory:
        t_b = _other_threshold(alert.op, fire_v, silent_v, sh)
        b = _host("host-b", alert, sh)
        tests.append(
            _group(
                f"{name}: per-host thresholds (host-a {num(t)}, host-b {num(t_b)})",
                inputs(a, silent_v, fire_v, t) + inputs(b, silent_v, fire_v, t_b),
                [(at, name, [fire])],
            )
        )
    if sh.host and not alert.include_maintenance:
        m = _host("host-m", alert, sh, maintenance=True)
        tests.append(
            _group(f"{name}: host in maintenance", inputs(m, silent_v, fire_v, t), [(at, name, [])])
        )
    return tests


def _other_threshold(op: str, fire_v: Decimal, silent_v: Decimal, sh: Shorthand) -> Decimal:
    """A threshold for host-b that ``fire_v`` does not cross."""
    if op in ("==", "!="):
        return silent_v if op == "==" else fire_v
    if op in (">", ">="):
        return _mid(fire_v, sh.hi) if sh.hi is not None else fire_v * 2 + 1
    return _mid(sh.lo, fire_v) if sh.lo is not None else fire_v - abs(fire_v) - 1


def expr_tests(alert: Alert, config: Config) -> list[dict[str, Any]]:
    test = alert.test
    assert test is not None
    minutes = math.ceil(alert.for_seconds / 60) + 10
    if test.eval_time:
        minutes = math.ceil(parse_duration(test.eval_time) / 60)
    series: Series = [(s["series"], s["values"]) for s in test.input_series]
    fire = expected(alert, config, dict(test.labels), test.value)
    tests = [_group(f"{alert.name}: fires (test: block)", series, [(minutes, alert.name, [fire])])]
    instance = test.labels.get("instance")
    if instance is not None and not alert.include_maintenance:
        flag = f'{MAINTENANCE}{{instance="{instance}"}}'
        tests.append(
            _group(
                f"{alert.name}: host in maintenance",
                [*series, (flag, gauge(Decimal(1), Decimal(1), 0, minutes + 1))],
                [(minutes, alert.name, [])],
            )
        )
    return tests


def alert_tests(alert: Alert, config: Config) -> list[dict[str, Any]]:
    return metric_tests(alert, config) if alert.metric is not None else expr_tests(alert, config)
