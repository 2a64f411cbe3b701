"""SLOs: Sloth-style recording rules and the SRE workbook's multiwindow multi-burn-rate alerts.

Per SLO (label ``slo``): ``slo:sli_error:ratio_rate<w>`` and ``slo:sli_total:rate<w>`` for
w in 5m 30m 1h 2h 6h 1d 3d; ``slo:objective:ratio``, ``slo:error_budget:ratio`` (1 - objective),
``slo:time_period:days``, ``slo:sli_error:ratio_rate30d``, ``slo:current_burn_rate:ratio``,
``slo:period_burn_rate:ratio``, ``slo:period_error_budget_remaining:ratio``.  Alerts (one name,
``<Slo>ErrorBudgetBurn``, four rules): page 14.4x over 1h and 5m, page 6x over 6h and 30m,
ticket 3x over 1d and 2h, ticket 1x over 3d and 6h; each also needs at least
``min_events_per_hour`` events per hour over its long window (a quiet service never pages
on one error).  Thresholds are exact decimals: 14.4 x (1 - 0.999) is written 0.0144.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fleetwatch.rules import templates
from fleetwatch.rules.model import Config, Slo
from fleetwatch.rules.shorthands import num
from fleetwatch.rules.threshold import dashboard_url, runbook_url

#: the recorded series of every SLO (label ``slo``); the first two end in their window
SLI_ERROR = "slo:sli_error:ratio_rate"
SLI_TOTAL = "slo:sli_total:rate"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
TIME_PERIOD = "slo:time_period:days"
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"
BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
#: (burn factor, long window, short window, "page" | "ticket")
BURNS: tuple[tuple[Decimal, str, str, str], ...] = (
    (Decimal("14.4"), "1h", "5m", "page"),
    (Decimal("6"), "6h", "30m", "page"),
    (Decimal("3"), "1d", "2h", "ticket"),
    (Decimal("1"), "3d", "6h", "ticket"),
)
PROBES = "fleetwatch_probes_total"


def alert_name(slo_name: str) -> str:
    camel = "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", slo_name) if part)
    return f"{camel}ErrorBudgetBurn"


def dashboard_uid(slo: Slo) -> str:
    return slo.dashboard or f"fw-slo-{slo.name}"[:40]


def _sel(slo: Slo) -> str:
    return f'{{slo="{slo.name}"}}'


def queries(slo: Slo, window: str) -> tuple[str, str]:
    """(error query, total query) over ``window``."""
    if slo.error_query is not None and slo.total_query is not None:
        return (
            slo.error_query.strip().replace("{{window}}", window),
            slo.total_query.strip().replace("{{window}}", window),
        )
    module = f', module="{slo.probe_module}"' if slo.probe_module else ""
    total_sel = f'{{module="{slo.probe_module}"}}' if slo.probe_module else ""
    return (
        f'sum(rate({PROBES}{{outcome="failure"{module}}}[{window}]))',
        f"sum(rate({PROBES}{total_sel}[{window}]))",
    )


def threshold(slo: Slo, factor: Decimal) -> str:
    return num(factor * slo.budget)


def recording_rules(slo: Slo) -> list[dict[str, Any]]:
    labels = {"slo": slo.name}
    sel = _sel(slo)
    rules: list[dict[str, Any]] = []
    for w in WINDOWS:
        error, total = queries(slo, w)
        rules.append(
            {"record": f"{SLI_ERROR}{w}", "expr": f"({error}) / ({total})",
             "labels": labels}
        )  # fmt: skip
    for w in WINDOWS:
        rules.append({"record": f"{SLI_TOTAL}{w}", "expr": queries(slo, w)[1], "labels": labels})
    days = slo.window.removesuffix("d")
    rules += [
        {"record": OBJECTIVE, "expr": f"vector({num(slo.objective / 100)})",
         "labels": labels},
        {"record": ERROR_BUDGET, "expr": f"vector({num(slo.budget)})",
         "labels": labels},
        {"record": TIME_PERIOD, "expr": f"vector({days})", "labels": labels},
        {"record": f"{SLI_ERROR}{slo.window}",
         "expr": f"avg_over_time({SLI_ERROR}5m{sel}[{slo.window}])"},
        {"record": CURRENT_BURN_RATE,
         "expr": f"{SLI_ERROR}5m{sel}"
                 f" / on(slo) group_left() {ERROR_BUDGET}{sel}"},
        {"record": PERIOD_BURN_RATE,
         "expr": f"{SLI_ERROR}{slo.window}{sel}"
                 f" / on(slo) group_left() {ERROR_BUDGET}{sel}"},
        {"record": BUDGET_REMAINING,
         "expr": f"1 - {PERIOD_BURN_RATE}{sel}"},
    ]  # fmt: skip
    return rules


def alert_labels(slo: Slo, long: str, short: str, kind: str) -> dict[str, str]:
    severity = slo.page if kind == "page" else slo.ticket
    return {
        "severity": severity,
        "slo": slo.name,
        "long_window": long,
        "short_window": short,
        **dict(sorted(slo.labels.items())),
    }


def burn_annotations(slo: Slo, config: Config, factor: Decimal, long: str) -> dict[str, str]:
    name = alert_name(slo.name)
    return {
        "summary": slo.summary or f"The {slo.name} SLO is burning its error budget too fast.",
        "description": (
            f"{{{{ $value | humanizePercentage }}}} of {slo.name} events failed over the last "
            f"{long}: more than {num(factor)}x the error budget of the {num(slo.objective)}% "
            f"objective ({threshold(slo, factor)})."
        ),
        "runbook_url": runbook_url(config, name, slo.runbook),
        "dashboard_url": dashboard_url(config, dashboard_uid(slo), False),
    }


def alert_rules(slo: Slo, config: Config) -> list[dict[str, Any]]:
    sel = _sel(slo)
    rules: list[dict[str, Any]] = []
    for factor, long, short, kind in BURNS:
        t = threshold(slo, factor)
        guard = num(slo.min_events_per_hour)
        expr = (
            f"{SLI_ERROR}{long}{sel} > {t}\n"
            f"and {SLI_ERROR}{short}{sel} > {t}\n"
            f"and {SLI_TOTAL}{long}{sel} * 3600 >= {guard}"
        )
        rules.append(
            {
                "alert": alert_name(slo.name),
                "expr": expr,
                "labels": alert_labels(slo, long, short, kind),
                "annotations": burn_annotations(slo, config, factor, long),
            }
        )
    return rules


def rule_group(slo: Slo, config: Config) -> dict[str, Any]:
    return {"name": f"slo-{slo.name}", "rules": recording_rules(slo) + alert_rules(slo, config)}


# --------------------------------------------------------------------------- tests

PROBES_PER_MINUTE = Decimal(10000)
EVAL_MINUTES = 65  # the 1h and 5m windows are full; longer ones see the same ratio


def _inputs(slo: Slo, ratio: Decimal, per_minute: Decimal) -> list[dict[str, str]]:
    n = EVAL_MINUTES + 5
    if slo.error_query is None:
        lab = f'instance="127.0.0.1:9717", job="fleetwatch", module="{slo.probe_module or "ssh"}"'
        fail, ok = ratio * per_minute, (1 - ratio) * per_minute
        return [
            {"series": f'{PROBES}{{{lab}, outcome="failure"}}', "values": f"0+{num(fail)}x{n}"},
            {"series": f'{PROBES}{{{lab}, outcome="success"}}', "values": f"0+{num(ok)}x{n}"},
        ]
    # a custom SLI: feed its recorded series (the queries find no input and record nothing)
    per_second = per_minute / 60
    out = []
    for w in WINDOWS:
        out.append({"series": f"{SLI_ERROR}{w}{_sel(slo)}", "values": f"{num(ratio)}+0x{n}"})
        out.append({"series": f"{SLI_TOTAL}{w}{_sel(slo)}", "values": f"{num(per_second)}+0x{n}"})
    return out


def _expected(slo: Slo, config: Config, ratio: Decimal) -> list[dict[str, Any]]:
    burn = ratio / slo.budget
    return [
        {
            "exp_labels": alert_labels(slo, long, short, kind),
            "exp_annotations": {
                k: templates.expand(v, {"slo": slo.name}, float(ratio))
                for k, v in burn_annotations(slo, config, factor, long).items()
            },
        }
        for factor, long, short, kind in BURNS
        if burn > factor
    ]


def _case(
    slo: Slo, config: Config, name: str, ratio: Decimal, per_minute: Decimal, exp: bool
) -> dict[str, Any]:
    return {
        "name": f"{alert_name(slo.name)}: {name}",
        "interval": "1m",
        "input_series": _inputs(slo, ratio, per_minute),
        "alert_rule_test": [
            {
                "eval_time": f"{EVAL_MINUTES}m",
                "alertname": alert_name(slo.name),
                "exp_alerts": _expected(slo, config, ratio) if exp else [],
            }
        ],
    }  # fmt: skip


def tests(slo: Slo, config: Config) -> list[dict[str, Any]]:
    """Just above and just below each burn factor (+-0.1x), and a quiet service."""
    out: list[dict[str, Any]] = []
    for factor, long, short, _ in BURNS:
        for delta, side in ((Decimal("0.1"), "above"), (Decimal("-0.1"), "below")):
            ratio = (factor + delta) * slo.budget
            if ratio <= 0 or ratio > 1:
                continue
            label = f"error ratio {num(ratio)} just {side} {num(factor)}x ({long}/{short})"
            out.append(_case(slo, config, label, ratio, PROBES_PER_MINUTE, True))
    if slo.min_events_per_hour > 0:
        quiet = slo.min_events_per_hour / 2 / 60
        label = (
            f"every event fails but only {num(quiet * 60)}/h (< {num(slo.min_events_per_hour)}/h)"
        )
        out.append(_case(slo, config, label, Decimal(1), quiet, False))
    budget = {
        "expr": f"{ERROR_BUDGET}{_sel(slo)}",
        "eval_time": "1m",
        "exp_samples": [
            {"labels": f'{ERROR_BUDGET}{{slo="{slo.name}"}}', "value": float(slo.budget)}
        ],
    }
    if out:
        out[0]["promql_expr_test"] = [budget]
    return out
