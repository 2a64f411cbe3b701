"""PromQL for the validator: a small lexer, Grafana variable substitution, metric extraction.

The lexer knows just enough PromQL to tell selectors from functions, keywords, label names,
strings, numbers and durations; it also recognises Grafana variable references (``$var``,
``${var:fmt}``, ``[[var]]``) as ``var`` tokens.  It never raises: unknown characters become
``other`` tokens and an unterminated string runs to the end.  Syntax itself is promtool's job
(``check_syntax``: one promtool run for many expressions).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleetwatch.validate.promtool import Promtool

#: what substituted user variables become in name positions; never a real metric name
PLACEHOLDER = "__grafana_{}__"
PLACEHOLDER_MARK = "__grafana_"

AGGREGATIONS = frozenset(
    [
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ]
)
GROUPING = frozenset(["by", "without", "on", "ignoring", "group_left", "group_right"])
KEYWORDS = AGGREGATIONS | GROUPING | {"bool", "offset", "and", "or", "unless", "atan2"}
NUMBER_WORDS = frozenset({"inf", "nan"})
#: Grafana macros that expand to a duration / to a number
DURATION_MACROS = frozenset({"__rate_interval", "__interval", "__range", "__auto"})
NUMBER_MACROS = frozenset(
    {"__range_s", "__range_ms", "__interval_ms", "__rate_interval_ms", "__from", "__to"}
)
#: function → indexes of its number arguments (a variable there becomes ``1``)
NUMBER_ARGS: dict[str, frozenset[int]] = {
    **{f: frozenset({0}) for f in ("topk", "bottomk", "quantile", "limitk", "limit_ratio")},
    **{f: frozenset({0}) for f in ("histogram_quantile", "quantile_over_time")},
    **{f: frozenset({1}) for f in ("clamp_min", "clamp_max", "round", "predict_linear")},
    **{f: frozenset({1, 2}) for f in ("clamp", "holt_winters", "double_exponential_smoothing")},
}
_OPS = ("==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">", "=")
_DURATION = re.compile(r"(\d+(ms|[smhdwy]))+")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_VAR = re.compile(r"\$\{([^}]*)\}|\$([a-zA-Z_]\w*)|\[\[([\w.:]+)\]\]")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident number duration string var op punct other
    text: str
    start: int
    end: int

    def is_(self, text: str) -> bool:
        return self.kind in ("punct", "op") and self.text == text


def var_name(ref: str) -> str:
    """``$x``, ``${x:csv}``, ``[[x]]`` → ``x``."""
    m = _VAR.fullmatch(ref)
    if m is None:
        return ref
    return (m.group(1) or m.group(2) or m.group(3) or "").split(":", 1)[0].strip()


def tokenize(expr: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(expr)
    in_range = False  # inside [...], ":" separates a subquery's range and step
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            nl = expr.find("\n", i)
            i = n if nl < 0 else nl
            continue
        start, kind = i, "other"
        m = _VAR.match(expr, i) if c in "$[" else None
        if m is not None:
            kind, i = "var", m.end()
        elif c in "\"'`":
            kind, i = "string", _string_end(expr, i)
        elif c.isdigit() or (c == "." and expr[i + 1 : i + 2].isdigit()):
            i += 1
            while i < n and (expr[i].isalnum() or expr[i] in "._"):
                if expr[i] in "eE" and expr[i + 1 : i + 2] in ("+", "-") and i + 2 < n:
                    i += 1
                i += 1
            kind = "duration" if _DURATION.fullmatch(expr, start, i) else "number"
        elif (c.isascii() and c.isalpha()) or c == "_" or (c == ":" and not in_range):
            kind, i = "ident", _NAME.match(expr, i).end()  # type: ignore[union-attr]
        elif op := next((o for o in _OPS if expr.startswith(o, i)), None):
            kind, i = "op", i + len(op)
        else:
            kind, i = ("punct" if c in "(){}[],:@" else "other"), i + 1
            in_range = {"[": True, "]": False}.get(c, in_range)
        out.append(Token(kind, expr[start:i], start, i))
    return out


def _string_end(expr: str, i: int) -> int:
    quote, i = expr[i], i + 1
    while i < len(expr):
        if expr[i] == "\\" and quote != "`":
            i += 2
        elif expr[i] == quote:
            return i + 1
        else:
            i += 1
    return len(expr)


def _unquote(text: str) -> str:
    body = text[1:-1] if len(text) >= 2 else ""
    return body if text[:1] == "`" else re.sub(r"\\(.)", r"\1", body)


# --- Grafana variables -------------------------------------------------------------------------


def substitute_grafana_variables(expr: str, variables: Collection[str] | None = None) -> str:
    """Replace Grafana macros and template variables so PromQL tools can parse ``expr``.

    Heuristics, by the position of each reference:

    - inside a string (label matcher values, label_replace arguments): ``.*`` — valid both as
      an exact value and as a regex; ``$1`` (a regex back-reference) is left alone;
    - duration macros (``$__rate_interval``, ``$__interval``, ``$__range``...) anywhere, and any
      variable inside ``[...]`` or after ``offset``: ``5m`` (``5`` when a unit letter follows);
    - number macros (``$__range_s``, ``$__interval_ms``, ``$__from``...): a number;
    - a number argument (``topk($n, ...)``, ``quantile($q, ...)``, ``clamp_max(x, $m)``...) or
      right after a binary operator or ``@`` (``x > $threshold``): ``1``;
    - anything else (a metric name ``$metric{...}``, a label in ``by ($label)``, part of a name
      ``node_${kind}_bytes``): the name ``__grafana_<var>__`` (see ``PLACEHOLDER_MARK``).

    With ``variables`` given, only those names and ``$__*`` macros are replaced: a reference to
    an undefined variable stays and promtool reports it.
    """

    def wanted(ref: str) -> bool:
        name = var_name(ref)
        return variables is None or name.startswith("__") or name in variables

    tokens = tokenize(expr)
    parts: list[str] = []
    last = 0
    for i, tok in enumerate(tokens):
        if tok.kind == "string":
            text = _VAR.sub(lambda m: ".*" if wanted(m.group(0)) else m.group(0), tok.text)
        elif tok.kind == "var" and wanted(tok.text):
            text = _replacement(tokens, i, var_name(tok.text))
        else:
            continue
        parts += [expr[last : tok.start], text]
        last = tok.end
    return "".join(parts) + expr[last:]


def _replacement(tokens: list[Token], i: int, name: str) -> str:
    tok = tokens[i]
    prev = tokens[i - 1] if i else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    glued_after = nxt is not None and nxt.start == tok.end and nxt.kind in ("ident", "number")
    if name in NUMBER_MACROS:
        return "300"
    in_brackets, func, arg = _context(tokens, i)
    if in_brackets or (prev is not None and prev.text.lower() == "offset"):
        return "5" if glued_after else "5m"
    if name in DURATION_MACROS:
        return "5m"
    glued = glued_after or (prev is not None and prev.end == tok.start and prev.kind == "ident")
    if not glued and (
        arg in NUMBER_ARGS.get(func or "", ())
        or (prev is not None and (prev.kind == "op" or prev.is_("@")))
    ):
        return "1"
    return PLACEHOLDER.format(name)


def _context(tokens: list[Token], i: int) -> tuple[bool, str | None, int]:
    """Is token ``i`` inside ``[...]``; the call it is an argument of, and which argument."""
    stack: list[tuple[str, str | None, int]] = []
    for j, tok in enumerate(tokens[:i]):
        if tok.is_("(") or tok.is_("[") or tok.is_("{"):
            before = tokens[j - 1] if j else None
            func = before.text if before is not None and before.kind == "ident" else None
            stack.append((tok.text, func, 0))
        elif (tok.is_(")") or tok.is_("]") or tok.is_("}")) and stack:
            stack.pop()
        elif tok.is_(",") and stack:
            kind, func, arg = stack[-1]
            stack[-1] = (kind, func, arg + 1)
    if not stack:
        return False, None, 0
    kind, func, arg = stack[-1]
    return kind == "[", (func if kind == "(" else None), arg


# --- selectors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    name: str | None  # None: no name, or a regex / negative __name__ matcher
    calls: tuple[str, ...]  # enclosing function / aggregation names, outermost first


def selectors(expr: str) -> Iterator[Selector]:
    """Every vector selector of ``expr`` with the calls around it."""
    tokens = tokenize(expr)
    calls: list[str | None] = []
    pending: str | None = None  # an aggregation waiting for its ``(`` after ``by (...)``
    i, n = 0, len(tokens)
    while i < n:
        tok, nxt = tokens[i], (tokens[i + 1] if i + 1 < n else None)
        opens = nxt is not None and nxt.is_("(")
        low = tok.text.lower()
        if tok.kind == "ident":
            prev = tokens[i - 1] if i else None
            if low in GROUPING:
                i = _skip_group(tokens, i + 1) if opens else i + 1
            elif opens:
                calls.append(low if low in AGGREGATIONS else tok.text)
                i += 2
            elif low in KEYWORDS or low in NUMBER_WORDS or (prev and prev.is_("@")):
                pending = low if low in AGGREGATIONS else pending
                i += 1
            else:
                name, i = _matchers(tokens, i + 1, tok.text)
                yield Selector(name, tuple(c for c in calls if c))
            continue
        if tok.is_("{"):
            name, i = _matchers(tokens, i, None)
            yield Selector(name, tuple(c for c in calls if c))
            continue
        if tok.is_("("):
            calls.append(pending)
            pending = None
        elif tok.is_(")") and calls:
            calls.pop()
        i += 1


def _skip_group(tokens: list[Token], i: int) -> int:
    """``tokens[i]`` is the ``(`` of a label list: the index after its ``)``."""
    while i < len(tokens) and not tokens[i].is_(")"):
        i += 1
    return i + 1


def _matchers(tokens: list[Token], i: int, name: str | None) -> tuple[str | None, int]:
    """Read ``{...}`` at ``tokens[i]`` (if any): the selector's name and the index after it."""
    if i >= len(tokens) or not tokens[i].is_("{"):
        return name, i
    i += 1
    named_by_regex = False
    while i < len(tokens) and not tokens[i].is_("}"):
        tok = tokens[i]
        op = tokens[i + 1] if i + 1 < len(tokens) else None
        value = tokens[i + 2] if i + 2 < len(tokens) else None
        label = _unquote(tok.text) if tok.kind == "string" else tok.text
        if op is not None and op.kind == "op" and value is not None and value.kind == "string":
            if label == "__name__" and op.text == "=" and name is None:
                name = _unquote(value.text)
            elif label == "__name__":
                named_by_regex = True
            i += 3
        elif tok.kind == "string" and name is None:  # Prometheus 3: {"quoted.name", a="b"}
            name = label
            i += 1
        else:
            i += 1
    if named_by_regex and name is None:
        return None, i + 1
    return name, i + 1


def metric_names(expr: str) -> set[str]:
    """Metric names ``expr`` selects (call it after ``substitute_grafana_variables``)."""
    return {s.name for s in selectors(expr) if s.name and _NAME.fullmatch(s.name)}


def range_arguments(expr: str, functions: Collection[str]) -> Iterator[tuple[str, str]]:
    """``(function, range text)`` for each call of ``functions`` with a ``[range]`` argument."""
    tokens = tokenize(expr)
    for i, tok in enumerate(tokens[:-1]):
        if tok.kind != "ident" or tok.text not in functions or not tokens[i + 1].is_("("):
            continue
        depth, j = 0, i + 1
        while j < len(tokens):
            t = tokens[j]
            if t.is_("(") or t.is_("{"):
                depth += 1
            elif t.is_(")") or t.is_("}"):
                depth -= 1
                if depth == 0:
                    break
            elif t.is_("[") and depth == 1:
                end = next((k for k in range(j, len(tokens)) if tokens[k].is_("]")), j)
                yield tok.text, expr[t.end : tokens[end].start].strip()
            j += 1


# --- syntax through promtool -------------------------------------------------------------------

_GROUP = "fleetwatch_check"
_RULE_ERROR = re.compile(r'"fleetwatch_check_(\d+)": (?:could not parse expression: )?(.*)')


def check_syntax(exprs: list[str], tool: Promtool) -> list[str | None]:
    """promtool's parse error for each expression (None: valid), in few promtool runs.

    All expressions go into one rules file as recording rules; promtool reports every rule
    that fails to parse, named ``fleetwatch_check_<i>``.  A failure it does not tie to a rule
    makes the batch be split in halves until it is.
    """
    results: list[str | None] = [None] * len(exprs)
    todo = []
    for i, expr in enumerate(exprs):
        if expr.strip():
            todo.append(i)
        else:
            results[i] = "empty expression"
    with tempfile.TemporaryDirectory(prefix="fleetwatch-promql-") as tmp:
        Path(tmp).chmod(0o755)  # readable by the container user when promtool runs in Docker
        _check_batch(exprs, todo, tool, Path(tmp) / "exprs.yml", results)
    return results


def _check_batch(
    exprs: list[str], todo: list[int], tool: Promtool, path: Path, results: list[str | None]
) -> None:
    while todo:
        rules = ",\n".join(json.dumps({"record": f"{_GROUP}_{i}", "expr": exprs[i]}) for i in todo)
        path.write_text(f'{{"groups": [{{"name": "{_GROUP}", "rules": [\n{rules}]}}]}}\n')
        path.chmod(0o644)
        ok, output = tool.check_rules_raw([path])
        if ok:
            return
        found = {int(m.group(1)): m.group(2).strip() for m in _RULE_ERROR.finditer(output)}
        found = {i: msg for i, msg in found.items() if i in todo}
        if found:
            for i, msg in found.items():
                results[i] = msg
            todo = [i for i in todo if i not in found]
        elif len(todo) == 1:
            results[todo[0]] = " ".join(output.split()) or "promtool rejected the expression"
            return
        else:
            half = len(todo) // 2
            _check_batch(exprs, todo[:half], tool, path, results)
            todo = todo[half:]
