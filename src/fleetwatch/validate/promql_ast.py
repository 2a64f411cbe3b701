"""PromQL as a tree: parse with promql-parser (GreptimeDB's Rust parser) and read it.

``parse(expr)`` returns the root node or raises ``PromQLError``.  ``walk`` yields every node
with the functions and aggregations above it; ``output_labels`` says which labels a result
series can carry (a closed set after ``by (...)``, ``on (...)``, ``absent(...)``, an open one
otherwise, with the labels known to be removed).  The parser's objects are untyped; this
module is the only place that knows their attribute names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: functions that keep their argument's labels (minus __name__)
_LABEL_ADDERS = {"label_replace": 1, "label_join": 1}
_NO_LABELS = frozenset({"vector", "time", "scalar", "pi", "minute", "hour", "day_of_month"})


class PromQLError(ValueError):
    """The parser's message for an expression that does not parse."""


@lru_cache(maxsize=4096)
def parse(expr: str) -> Any:
    import promql_parser

    try:
        return promql_parser.parse(expr)
    except BaseException as exc:  # the Rust side raises ValueError, a panic PanicException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise PromQLError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def kind(node: Any) -> str:
    return type(node).__name__


def op(node: Any) -> str:
    return str(node.op)


def func_name(node: Any) -> str:
    return str(node.func.name) if kind(node) == "Call" else ""


def children(node: Any) -> list[Any]:
    k = kind(node)
    if k == "BinaryExpr":
        return [node.lhs, node.rhs]
    if k == "AggregateExpr":
        return [c for c in (node.param, node.expr) if c is not None]
    if k == "Call":
        return list(node.args)
    if k == "MatrixSelector":
        return [node.vector_selector]
    if k in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
        return [node.expr]
    return []


@dataclass(frozen=True)
class Visit:
    node: Any
    #: the calls and aggregations above the node, innermost last (``rate``, ``sum``...)
    above: tuple[str, ...]
    #: the node is the direct argument (matrix) of the innermost call
    in_range: bool = False


def walk(root: Any) -> Iterator[Visit]:
    stack: list[tuple[Any, tuple[str, ...], bool]] = [(root, (), False)]
    while stack:
        node, above, in_range = stack.pop()
        yield Visit(node, above, in_range)
        k = kind(node)
        if k == "Call":
            inner = (*above, func_name(node))
        elif k == "AggregateExpr":
            inner = (*above, op(node))
        elif k == "SubqueryExpr":
            inner = (*above, "<subquery>")
        else:
            inner = above
        for child in reversed(children(node)):
            stack.append((child, inner, k == "MatrixSelector" or kind(child) == "MatrixSelector"))


def selectors(root: Any) -> Iterator[Visit]:
    """Every vector selector, with the calls above it."""
    for v in walk(root):
        if kind(v.node) == "VectorSelector":
            yield v


def selector_name(node: Any) -> str | None:
    if node.name:
        return str(node.name)
    for m in matchers(node):
        if m[0] == "__name__" and m[1] == "=":
            return m[2]
    return None


def matchers(node: Any) -> list[tuple[str, str, str]]:
    """(label, op, value) of a vector selector; op one of = != =~ !~."""
    ops = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
    out = []
    groups = [node.matchers.matchers, *getattr(node.matchers, "or_matchers", [])]
    for group in groups:
        for m in group:
            out.append((str(m.name), ops.get(str(m.op).rsplit(".", 1)[-1], "="), str(m.value)))
    return out


@dataclass(frozen=True)
class Labels:
    """The labels a result can carry: exactly ``known`` when closed, else ``known`` and more,
    never ``removed``."""

    known: frozenset[str] = frozenset()
    closed: bool = False
    removed: frozenset[str] = frozenset()

    def may_have(self, label: str) -> bool:
        if label in self.removed:
            return False
        return label in self.known or not self.closed


_OPEN = Labels()
_NONE = Labels(closed=True)


def output_labels(node: Any) -> Labels:
    k = kind(node)
    if k == "VectorSelector":
        eq = {m[0] for m in matchers(node) if m[1] == "=" and m[0] != "__name__"}
        return Labels(frozenset(eq))
    if k in ("MatrixSelector", "SubqueryExpr", "ParenExpr", "UnaryExpr"):
        return output_labels(children(node)[0])
    if k in ("NumberLiteral", "StringLiteral"):
        return _NONE
    if k == "AggregateExpr":
        return _aggregate_labels(node)
    if k == "Call":
        return _call_labels(node)
    if k == "BinaryExpr":
        return _binary_labels(node)
    return _OPEN


def _aggregate_labels(node: Any) -> Labels:
    name = op(node)
    inner = output_labels(node.expr)
    mod = node.modifier
    extra: frozenset[str] = frozenset()
    if name == "count_values" and kind(node.param) == "StringLiteral":
        extra = frozenset({str(node.param.val)})
    if name in ("topk", "bottomk", "limitk", "limit_ratio"):
        return inner
    if mod is None:
        return Labels(extra, closed=True)
    labels = frozenset(str(label) for label in mod.labels)
    if str(mod.type).endswith("Without"):
        return Labels(inner.known - labels | extra, inner.closed, inner.removed | labels)
    return Labels(labels | extra, closed=True)


def _call_labels(node: Any) -> Labels:
    name = func_name(node)
    args = list(node.args)
    if name in _NO_LABELS:
        return _NONE
    if name in ("absent", "absent_over_time"):
        sel = args[0] if args else None
        while sel is not None and kind(sel) in ("MatrixSelector", "ParenExpr"):
            sel = children(sel)[0]
        if sel is not None and kind(sel) == "VectorSelector":
            eq = {m[0] for m in matchers(sel) if m[1] == "=" and m[0] != "__name__"}
            return Labels(frozenset(eq), closed=True)
        return _NONE
    vector_args = [a for a in args if kind(a) not in ("NumberLiteral", "StringLiteral")]
    inner = output_labels(vector_args[0]) if vector_args else _NONE
    if name in _LABEL_ADDERS and len(args) > 1 and kind(args[1]) == "StringLiteral":
        added = str(args[1].val)
        return Labels(inner.known | {added}, inner.closed, inner.removed - {added})
    if name == "histogram_quantile":
        return Labels(inner.known - {"le"}, inner.closed, inner.removed | {"le"})
    return inner


def _binary_labels(node: Any) -> Labels:
    lhs, rhs = output_labels(node.lhs), output_labels(node.rhs)
    lhs_scalar, rhs_scalar = is_scalar(node.lhs), is_scalar(node.rhs)
    if lhs_scalar and not rhs_scalar:
        return rhs
    if rhs_scalar:
        return lhs
    name = op(node)
    if name == "or":
        return Labels(lhs.known | rhs.known, lhs.closed and rhs.closed, lhs.removed & rhs.removed)
    mod = node.modifier
    card = str(mod.card).rsplit(".", 1)[-1] if mod is not None and mod.card is not None else ""
    if card == "OneToMany":
        lhs, rhs = rhs, lhs
    if card in ("ManyToOne", "OneToMany"):
        extra = frozenset(str(x) for x in (getattr(mod, "group_labels", None) or []))
        if not extra and mod.card is not None:
            extra = frozenset(str(x) for x in (getattr(mod.card, "labels", None) or []))
        return Labels(lhs.known | extra, lhs.closed, lhs.removed - extra)
    if name in ("and", "unless") or _is_comparison(name):
        return lhs
    matching = mod.matching if mod is not None else None
    if matching is not None and str(matching.type).endswith("Include"):
        on = frozenset(str(x) for x in matching.labels)
        return Labels(on, closed=True)
    if matching is not None:
        ignored = frozenset(str(x) for x in matching.labels)
        return Labels(lhs.known - ignored, lhs.closed, lhs.removed | ignored)
    return lhs


def _is_comparison(name: str) -> bool:
    return name in ("==", "!=", ">", "<", ">=", "<=")


def is_comparison(node: Any) -> bool:
    return kind(node) == "BinaryExpr" and _is_comparison(op(node))


def returns_bool(node: Any) -> bool:
    mod = node.modifier if kind(node) == "BinaryExpr" else None
    return bool(mod is not None and mod.return_bool)


def is_scalar(node: Any) -> bool:
    k = kind(node)
    if k == "NumberLiteral":
        return True
    if k in ("ParenExpr", "UnaryExpr"):
        return is_scalar(node.expr)
    if k == "Call":
        return func_name(node) in ("scalar", "time", "pi", "minute", "hour") and not (
            func_name(node) in ("minute", "hour") and node.args
        )
    if k == "BinaryExpr":
        return is_scalar(node.lhs) and is_scalar(node.rhs)
    return False


def strip_parens(node: Any) -> Any:
    while kind(node) == "ParenExpr":
        node = node.expr
    return node
