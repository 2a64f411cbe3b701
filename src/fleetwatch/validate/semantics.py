"""Type-aware checks of one PromQL expression, shared by rule files and dashboards.

``check_expr(expr, ctx)`` returns ``(rule id, message)`` pairs.  The metric types come from
the catalog (``ctx.sample_type``); a name it does not know is never guessed to be a gauge,
and a counter is a catalog counter or a ``_total`` name the catalog does not call a gauge.
Recording rules seen in the same run tell what a recorded series is (``ctx.recorded``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetwatch.validate import promql_ast as ast
from fleetwatch.validate.findings import Rule

RULES: dict[str, Rule] = {
    "rate-of-gauge": Rule("rate / irate / increase are applied to counters, never to gauges"),
    "rate-over-aggregate": Rule(
        "rate / irate / increase are not applied to a recorded rate or aggregate (recorded "
        "sums lose counter resets; a recorded rate is a gauge)"
    ),
    "counter-without-rate": Rule(
        "counters are shown or compared through rate / irate / increase, not as raw totals",
        "warning",
    ),
    "histogram-quantile-le": Rule(
        "histogram_quantile's input keeps the `le` label (sum by (le, ...))"
    ),
    "histogram-quantile-input": Rule(
        "histogram_quantile reads `_bucket` series (or native histograms), not _sum / _count / "
        "counters / gauges"
    ),
    "regex-literal": Rule("a regex matcher without regex characters: use = or !=", "warning"),
    "regex-anchored": Rule(
        "regex matchers are anchored by Prometheus: ^ and $ are redundant", "warning"
    ),
}
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
COUNTER_OK = RATE_FUNCTIONS | {
    *("resets", "changes", "count", "count_values", "group", "timestamp"),
    *("absent", "absent_over_time", "present_over_time", "count_over_time"),
}
_REGEX_CHARS = re.compile(r"[.*+?()\[\]{}|\\^$]")


@dataclass(frozen=True)
class Recorded:
    """What a recording rule's series is: ``rate`` (a rate or increase), ``aggregate`` (an
    aggregation of raw series) or ``other``."""

    name: str
    shape: str


@dataclass
class Context:
    #: "alert", "record", "panel" or "variable"
    kind: str
    sample_type: Callable[[str], str | None] = lambda name: None
    recorded: Mapping[str, Recorded] = field(default_factory=dict)
    #: a gauge the user declared (their catalog): rate() of it is wrong even when named _total
    declared_gauge: Callable[[str], bool] = lambda name: False


def recorded_shape(expr: str) -> str:
    """``rate``, ``aggregate`` or ``other`` for a recording rule's expression."""
    try:
        root = ast.strip_parens(ast.parse(expr))
    except ast.PromQLError:
        return "other"
    while ast.kind(root) == "BinaryExpr" and (ast.is_scalar(root.rhs) or ast.is_scalar(root.lhs)):
        root = ast.strip_parens(root.lhs if ast.is_scalar(root.rhs) else root.rhs)
    names = {ast.func_name(v.node) for v in ast.walk(root) if ast.kind(v.node) == "Call"}
    if names & RATE_FUNCTIONS or names & {"deriv", "delta", "idelta", "irate"}:
        return "rate"
    if ast.kind(root) == "AggregateExpr" and ast.op(root) in ("sum", "avg", "max", "min"):
        return "aggregate"
    return "other"


def is_counter(name: str, ctx: Context) -> bool:
    kind = ctx.sample_type(name)
    if kind is not None:
        return kind == "counter"
    return name.endswith("_total") and name not in ctx.recorded


def check_expr(expr: str, ctx: Context) -> list[tuple[str, str]]:
    """Findings of ``expr`` (which parses: syntax errors are promtool's to report)."""
    try:
        root = ast.parse(expr)
    except ast.PromQLError:
        return []
    out: list[tuple[str, str]] = []
    visits = list(ast.walk(root))
    # x - x offset 1h is an increase written by hand: neither side is a raw total
    shifted = {
        ast.selector_name(v.node)
        for v in visits
        if ast.kind(v.node) == "VectorSelector" and v.node.offset is not None
    }
    for visit in visits:
        node = visit.node
        k = ast.kind(node)
        if k == "VectorSelector":
            out += _selector(node, visit, ctx, shifted)
        if k == "Call" and ast.func_name(node) == "histogram_quantile" and len(node.args) > 1:
            out += _quantile_input(node.args[1], ctx)
        if k == "Call" and ast.func_name(node) == "histogram_quantile" and len(node.args) > 1:
            labels = ast.output_labels(node.args[1])
            arg = ast.strip_parens(node.args[1])
            if not labels.may_have("le") and ast.kind(arg) != "VectorSelector":
                out.append(
                    (
                        "histogram-quantile-le",
                        "histogram_quantile over an input without "
                        "the `le` label (aggregate with `by (le, ...)`): the result is empty",
                    )
                )
    return sorted(set(out))


def _selector(
    node: Any, visit: ast.Visit, ctx: Context, shifted: set[str | None]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    name = ast.selector_name(node)
    for label, mop, value in ast.matchers(node):
        if mop not in ("=~", "!~") or "__grafana_" in value or label == "__name__":
            continue
        if value and not _REGEX_CHARS.search(value):
            eq = "=" if mop == "=~" else "!="
            out.append(
                (
                    "regex-literal",
                    f'{label}{mop}"{value}" has no regex characters: use {label}{eq}"{value}"',
                )
            )
        elif len(value) > 1 and (
            value.startswith("^") or (value.endswith("$") and not value.endswith("\\$"))
        ):
            out.append(
                (
                    "regex-anchored",
                    f'{label}{mop}"{value}": Prometheus anchors regexes, the ^ / $ are redundant',
                )
            )
    if name is None:
        return out
    func = visit.above[-1] if visit.above else ""
    if visit.in_range and func in RATE_FUNCTIONS:
        kind = ctx.sample_type(name)
        rec = ctx.recorded.get(name)
        # a gauge named _total (node_exporter's systemd socket counts) is a counter in all
        # but its TYPE line: rate() of it is what everyone does
        if (
            kind == "gauge"
            and rec is None
            and (not name.endswith("_total") or ctx.declared_gauge(name))
        ):
            out.append(
                (
                    "rate-of-gauge",
                    f"{func}() of {name}, a gauge: use deriv() or "
                    "delta() for gauges, or the value itself",
                )
            )
        elif rec is not None and rec.shape == "rate":
            out.append(
                (
                    "rate-over-aggregate",
                    f"{func}() of {name}, a recording rule that is "
                    "already a rate (a gauge): use the recorded series itself",
                )
            )
        elif rec is not None and rec.shape == "aggregate":
            out.append(
                (
                    "rate-over-aggregate",
                    f"{func}() of {name}, a recorded aggregation: "
                    "counter resets of its inputs show as drops; record rate(...) first, "
                    "then aggregate",
                )
            )
    elif (
        ctx.kind in ("panel", "alert")
        and name not in shifted
        and is_counter(name, ctx)
        and not set(visit.above) & COUNTER_OK
    ):
        where = "compared" if ctx.kind == "alert" else "shown"
        out.append(
            (
                "counter-without-rate",
                f"counter {name} {where} as a raw total: use "
                f"rate() or increase() (a raw counter resets on every restart)",
            )
        )
    return out


def _quantile_input(arg: Any, ctx: Context) -> list[tuple[str, str]]:
    """histogram_quantile over series that are not buckets: ``x_sum``, a counter, a gauge."""
    out = []
    for visit in ast.selectors(arg):
        name = ast.selector_name(visit.node)
        if name is None or name.endswith("_bucket") or name in ctx.recorded:
            continue
        kind = ctx.sample_type(name)
        if name.endswith(("_sum", "_count", "_total")) or kind in ("counter", "gauge"):
            out.append(
                (
                    "histogram-quantile-input",
                    f"histogram_quantile over {name}: it reads the `_bucket` series of a "
                    f"histogram (with their `le` label)",
                )
            )
    return out
