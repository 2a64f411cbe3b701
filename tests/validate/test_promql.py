"""PromQL: Grafana variable substitution, metric extraction, promtool syntax checks."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fleetwatch.validate.promql import (
    check_syntax,
    metric_names,
    range_arguments,
    selectors,
    substitute_grafana_variables,
    tokenize,
)
from fleetwatch.validate.promtool import Promtool
from validate.samples import NODE_EXPORTER_FULL

sub = substitute_grafana_variables


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(x[$__rate_interval])", "rate(x[5m])"),
        ("rate(x[${__rate_interval}])", "rate(x[5m])"),
        ("increase(x[$__range])", "increase(x[5m])"),
        ("increase(x[${__range}]) / $__range_s", "increase(x[5m]) / 300"),
        ("rate(x[$__interval]) * $__interval_ms", "rate(x[5m]) * 300"),
        ("rate(x[$interval])", "rate(x[5m])"),
        ("rate(x[[[interval]]])", "rate(x[5m])"),
        ("rate(x[${n}m])", "rate(x[5m])"),
        ("x offset $shift", "x offset 5m"),
        ('x{job="$job"}', 'x{job=".*"}'),
        ('x{job=~"${job:regex}",i=~"[[instance]]|foo"}', 'x{job=~".*",i=~".*|foo"}'),
        ('label_replace(x, "a", "$1", "b", "(.*)")', 'label_replace(x, "a", "$1", "b", "(.*)")'),
        ("topk($n, x)", "topk(1, x)"),
        ("quantile($q, x)", "quantile(1, x)"),
        ("clamp_max(x, $max)", "clamp_max(x, 1)"),
        ("x > $threshold", "x > 1"),
        ("x @ ${__to:date:seconds}", "x @ 300"),
        ('$metric{job="a"}', '__grafana_metric__{job="a"}'),
        ("sum by ($label) (x)", "sum by (__grafana_label__) (x)"),
        ("node_memory_${kind}_bytes", "node_memory___grafana_kind___bytes"),
        ("$query", "__grafana_query__"),
    ],
)
def test_substitution(expr: str, expected: str) -> None:
    assert sub(expr) == expected


def test_substitution_of_known_variables_only_leaves_undefined_ones() -> None:
    assert sub("x{a=~'$a'} > $b", variables={"a"}) == "x{a=~'.*'} > $b"
    assert sub("rate(x[$__rate_interval])", variables=set()) == "rate(x[5m])"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))', {"http_requests_total"}),
        ("sum(rate(a[5m])) without (instance, cpu) / on(job) group_left(name) b", {"a", "b"}),
        ("a * on (x) group_left c", {"a", "c"}),
        ("a and b or c unless d", {"a", "b", "c", "d"}),
        ("a > bool 1", {"a"}),
        ('{__name__="foo", job="x"}', {"foo"}),
        ('{__name__=~"node_.*"}', set()),
        ('{__name__=~"node_.*"} + bar', {"bar"}),
        ("a offset 5m @ start()", {"a"}),
        ("x @ 1609746000 + y offset -1h", {"x", "y"}),
        ("max_over_time(rate(c[5m])[1h:1m])", {"c"}),
        ("histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", {"h_bucket"}),
        ('count_values("version", build_info)', {"build_info"}),
        ("SUM BY (job) (up)", {"up"}),
        ("instance:node_cpu:rate5m", {"instance:node_cpu:rate5m"}),
        ('label_replace(up, "by", "$1", "on", "(.*)")', {"up"}),
        ("vector(1) + scalar(x) + Inf + NaN + 1e3 + 0x1F", {"x"}),
        ('x{a="}{"} # a comment: y', {"x"}),
        ('{"quoted.name", a="b"}', set()),  # Prometheus 3 UTF-8 names: not classic names
        ("start + end", {"start", "end"}),
        ("sum(", set()),
        ('x{a="unterminated', {"x"}),
        ("", set()),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_selectors_know_the_calls_around_them() -> None:
    found = {s.name: s.calls for s in selectors("count by (cpu) (a_total) + rate(b_total[5m]) + c")}
    assert found == {"a_total": ("count",), "b_total": ("rate",), "c": ()}


def test_range_arguments() -> None:
    expr = "rate(a[5m]) + irate(b{x='y'}[$__rate_interval]) + increase(sum(c)[1h:])"
    assert list(range_arguments(expr, {"rate", "irate", "increase"})) == [
        ("rate", "5m"),
        ("irate", "$__rate_interval"),
        ("increase", "1h:"),
    ]


def test_tokenize_never_raises_on_garbage() -> None:
    for text in ["$", "${", "[[", "'", "`x", "1e", "\\", "{{}}", "é ∑ ☃", "5m:", "x[[a]"]:
        tokenize(text)
        metric_names(text)
        sub(text)


def _node_exporter_full_exprs() -> list[str]:
    if not NODE_EXPORTER_FULL.is_file():
        pytest.skip(f"{NODE_EXPORTER_FULL} not present")
    exprs: list[str] = []

    def walk(panels: list[Any]) -> None:
        for panel in panels:
            exprs.extend(t["expr"] for t in panel.get("targets") or [] if t.get("expr"))
            walk(panel.get("panels") or [])

    walk(json.loads(NODE_EXPORTER_FULL.read_text())["panels"])
    return exprs


def test_node_exporter_full_metric_names() -> None:
    exprs = _node_exporter_full_exprs()
    assert len(exprs) > 200
    for expr in exprs:
        names = metric_names(sub(expr))
        node_names = {n for n in names if n.startswith("node_")}
        assert node_names == set(re.findall(r"\bnode_\w+", expr)), expr


def test_node_exporter_full_queries_parse(promtool: Promtool) -> None:
    exprs = [sub(e) for e in _node_exporter_full_exprs()]
    assert check_syntax(exprs, promtool) == [None] * len(exprs)


def test_check_syntax_finds_typos_at_their_index(promtool: Promtool) -> None:
    exprs = ["up", "rate(x[5m]", "sum by (job) (up)", "", "x{a=b}", "a and b"] + ["up"] * 50
    result = check_syntax(exprs, promtool)
    assert result[0] is None and result[2] is None and result[5] is None
    assert result[1] is not None and "unclosed left parenthesis" in result[1]
    assert result[3] == "empty expression"
    assert result[4] is not None and "parse error" in result[4]
    assert result[6:] == [None] * 50


class CountingPromtool(Promtool):
    def __init__(self, real: Promtool, garble: bool = False) -> None:
        super().__init__(real.executable, docker=real.docker, timeout=real.timeout)
        self.calls = 0
        self.garble = garble

    def check_rules_raw(self, paths: Any, lint: str = "none") -> tuple[bool, str]:
        self.calls += 1
        ok, out = super().check_rules_raw(paths, lint)
        return (ok, "something went wrong") if self.garble and not ok else (ok, out)


def test_check_syntax_uses_one_promtool_run_when_all_valid(promtool: Promtool) -> None:
    counting = CountingPromtool(promtool)
    assert check_syntax(["up"] * 500, counting) == [None] * 500
    assert counting.calls == 1


def test_check_syntax_bisects_output_it_cannot_map(promtool: Promtool) -> None:
    counting = CountingPromtool(promtool, garble=True)
    exprs = ["up"] * 15 + ["up +"]
    result = check_syntax(exprs, counting)
    assert result[:15] == [None] * 15
    assert result[15] == "something went wrong"
    assert counting.calls <= 10
