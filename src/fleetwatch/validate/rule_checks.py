"""Semantic checks of alerting and recording rules (any rule file, not only fleetwatch's).

Each alert's expression is read as a tree (``promql_ast``): the labels its result carries
decide whether ``$labels.x`` in a template can ever be set; its shape tells an alert that
always fires (``x > bool 1``), one with no condition at all, one whose count is empty (not 0)
exactly when it should fire, a fragile ``topk`` and an ``absent()`` without ``for``.  The
type-aware expression checks (``semantics.check_expr``) run on every rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fleetwatch.validate import promql_ast as ast
from fleetwatch.validate import semantics
from fleetwatch.validate.findings import Finding, Rule, Severity

RULES: dict[str, Rule] = {
    "template-label": Rule(
        "labels used in alert templates ($labels.x) are in the expression's result (an error "
        "in labels: the alert's identity; a warning in annotations: an empty word in the text)"
    ),
    "value-in-labels": Rule("alert labels do not use $value (each new value would be a new alert)"),
    "alert-always-fires": Rule(
        "an alert's condition is not a `bool` comparison (it returns 0 or 1: always fires)"
    ),
    "alert-no-condition": Rule(
        "an alert's expression has a condition (comparison, and / unless, absent)", "warning"
    ),
    "empty-side": Rule(
        "a count / sum of filtered series is not on the side of a comparison that must hold "
        "when nothing matches (it is empty then, not 0: the alert never fires)"
    ),
    "alert-fragile": Rule(
        "alerts do not use topk / bottomk / limitk (the chosen series change between "
        "evaluations, the alert flaps)",
        "warning",
    ),
    "absent-without-for": Rule(
        "absent() alerts wait (`for:`) so that a restart or a slow first scrape does not page",
        "warning",
    ),
    "duplicate-rule": Rule("no two rules record or alert the same thing"),
}
_TEMPLATE_LABEL = re.compile(
    r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)"
    r"|index\s+\$labels\s+\"([^\"]+)\""
)
# {{ range query "..." }} ... {{ end }} / {{ with query ... }}: labels of another query
_QUERY_BLOCK = re.compile(r"\{\{-?\s*(?:range|with)\b[^}]*\bquery\b.*?\{\{-?\s*end\s*-?\}\}", re.S)
_VALUE = re.compile(r"\$value\b|\.Value\b")
_SET_OPS = frozenset({"and", "unless"})
_FRAGILE = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


@dataclass(frozen=True)
class RuleAt:
    """One rule of a rule source, with where it is."""

    file: str
    group: int
    index: int
    rule: dict[str, Any]
    line: Callable[[tuple[str, ...]], int | None]

    @property
    def name(self) -> str:
        name = self.rule.get("alert", self.rule.get("record"))
        return name if isinstance(name, str) else ""

    @property
    def where(self) -> str:
        return f"group {self.group} rule {self.index}" + (f' "{self.name}"' if self.name else "")

    def finding(self, rule: str, msg: str, *key: str, severity: Severity = "error") -> Finding:
        return Finding(self.file, rule, msg, self.where, severity, self.line(key))


def rules_of(
    file: str, data: Any, line: Callable[[tuple[Any, ...]], int | None]
) -> Iterator[RuleAt]:
    groups = data.get("groups") if isinstance(data, dict) else None
    for g, group in enumerate(groups if isinstance(groups, list) else []):
        items = group.get("rules") if isinstance(group, dict) else None
        for r, rule in enumerate(items if isinstance(items, list) else []):
            if isinstance(rule, dict):
                yield RuleAt(file, g, r, rule, _line_at(line, g, r))


def _line_at(
    line: Callable[[tuple[Any, ...]], int | None], g: int, r: int
) -> Callable[[tuple[str, ...]], int | None]:
    return lambda key: line(("groups", g, "rules", r, *key))


def check_rules(rules: Iterable[RuleAt], ctx: semantics.Context) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[tuple[str, str, str, str], RuleAt] = {}
    for at in rules:
        expr = at.rule.get("expr")
        if not isinstance(expr, str | int | float):
            continue
        expr = str(expr)
        alert = "alert" in at.rule
        kind = "alert" if alert else "record"
        local = semantics.Context(kind, ctx.sample_type, ctx.recorded, ctx.declared_gauge)
        out += [at.finding(rule, msg, "expr") for rule, msg in semantics.check_expr(expr, local)]
        try:
            root = ast.parse(expr)
        except ast.PromQLError:
            continue  # promtool reports it
        raw_labels = at.rule.get("labels")
        labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
        key = (kind, at.name, str(root), repr(sorted((str(k), str(v)) for k, v in labels.items())))
        if key in seen:
            first = seen[key]
            out.append(
                at.finding(
                    "duplicate-rule",
                    f"same {kind}, expression and labels as {first.where} of {first.file}",
                    kind,
                )
            )
        else:
            seen[key] = at
        if alert:
            out += _alert(at, root, labels)
    return out


def _alert(at: RuleAt, root: Any, labels: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    top = ast.strip_parens(root)
    visits = list(ast.walk(root))
    calls = {ast.func_name(v.node) for v in visits if ast.kind(v.node) == "Call"}
    aggs = {ast.op(v.node) for v in visits if ast.kind(v.node) == "AggregateExpr"}
    if ast.is_comparison(top) and ast.returns_bool(top):
        out.append(
            at.finding(
                "alert-always-fires",
                f"the condition `{ast.op(top)} bool` "
                "returns 0 or 1 for every series: the alert always fires; drop "
                "`bool`",
                "expr",
            )
        )
    filters = [
        v.node
        for v in visits
        if (ast.is_comparison(v.node) and not ast.returns_bool(v.node))
        or (ast.kind(v.node) == "BinaryExpr" and ast.op(v.node) in _SET_OPS)
    ]
    if not filters and not calls & {"absent", "absent_over_time", "vector"} and not out:
        out.append(
            at.finding(
                "alert-no-condition",
                "the expression has no condition: the alert fires for every series it returns",
                "expr",
            )
        )
    if aggs & _FRAGILE:
        used = ", ".join(sorted(aggs & _FRAGILE))
        out.append(
            at.finding(
                "alert-fragile",
                f"{used} in an alert: the series it picks change "
                "between evaluations and the alert flaps",
                "expr",
            )
        )
    if calls & {"absent", "absent_over_time"} and not _has_for(at.rule):
        out.append(
            at.finding(
                "absent-without-for",
                "absent() without `for:`: a Prometheus "
                "restart or a slow first scrape fires it; add `for: 5m` or more",
                "expr",
            )
        )
    for node in filters:
        side = _empty_side(node)
        if side is not None:
            out.append(
                at.finding(
                    "empty-side",
                    f"{side} is empty, not 0, when no series passes "
                    f"its filter, so `{_short(node)}` never fires in exactly that "
                    "case: add `or vector(0)` (or `or on() vector(0)`) to it",
                    "expr",
                )
            )
    result = ast.output_labels(root)
    raw_notes = at.rule.get("annotations")
    notes: dict[str, Any] = raw_notes if isinstance(raw_notes, dict) else {}
    for where, texts in (("annotations", notes), ("labels", labels)):
        for key, text in texts.items():
            if not isinstance(text, str):
                continue
            for m in _TEMPLATE_LABEL.finditer(_QUERY_BLOCK.sub("", text)):
                label = m[1] or m[2] or m[3]
                if not result.may_have(label):
                    have = ", ".join(sorted(result.known)) or "no labels"
                    out.append(
                        at.finding(
                            "template-label",
                            f"{where}.{key} uses label {label!r}, "
                            f"which the expression's result does not have "
                            f"(it keeps {have})",
                            where,
                            str(key),
                            severity="error" if where == "labels" else "warning",
                        )
                    )
            if where == "labels" and _VALUE.search(text):
                out.append(
                    at.finding(
                        "value-in-labels",
                        f"label {key} uses $value: every new "
                        "value makes a new alert (and resolves the old one); put it "
                        "in an annotation",
                        where,
                        str(key),
                    )
                )
    return out


def _has_for(rule: dict[str, Any]) -> bool:
    value = rule.get("for")
    return isinstance(value, str) and value.strip() not in ("", "0", "0s", "0m")


def _empty_side(node: Any) -> str | None:
    """The side of comparison ``node`` that is a count / sum of filtered series and must be
    the small one for the condition to hold (``count(x == 1) < 3``), else None."""
    name = ast.op(node)
    if name in ("<", "<="):
        side = node.lhs
    elif name in (">", ">="):
        side = node.rhs
    else:
        return None
    side = ast.strip_parens(side)
    while ast.kind(side) == "BinaryExpr" and ast.op(side) in ("*", "/", "+", "-"):
        other = (
            side.rhs if ast.is_scalar(side.rhs) else side.lhs if ast.is_scalar(side.lhs) else None
        )
        if other is None:
            return None
        side = ast.strip_parens(side.lhs if other is side.rhs else side.rhs)
    if ast.kind(side) != "AggregateExpr" or ast.op(side) not in ("count", "sum"):
        return None
    filtered = any(_keeps_healthy(v.node) for v in ast.walk(side.expr))
    return f"{ast.op(side)}(...)" if filtered else None


def _keeps_healthy(node: Any) -> bool:
    """A filter that keeps the series in the good state (``up == 1``, ``x > 0``): counting
    them is empty in the worst case.  (``count(x == 0) <= n`` counts the bad ones: empty
    there means none is bad, and the alert is right not to fire.)"""
    if not ast.is_comparison(node) or ast.returns_bool(node):
        return False
    rhs = ast.strip_parens(node.rhs)
    if ast.kind(rhs) != "NumberLiteral":
        return False
    value, name = float(rhs.val), ast.op(node)
    return (
        (name == "==" and value == 1)
        or (name in (">", "!=") and value == 0)
        or (name == ">=" and value == 1)
    )


def _short(node: Any) -> str:
    text = str(node)
    return text if len(text) <= 80 else text[:77] + "..."
