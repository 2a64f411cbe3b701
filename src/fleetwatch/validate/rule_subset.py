"""The rules a ``promtool test rules`` case can observe, so that it runs with only those.

promtool evaluates every rule of the test file's rule files at every step up to the case's
last ``eval_time``; a case of the host pack that looks 13 hours ahead for one alert paid for
all 31 rules of the pack at each of its 785 steps.  A case observes:

- the alerting rules named by its ``alert_rule_test`` items;
- the recording rules producing a metric that one of its ``promql_expr_test`` expressions
  selects;
- transitively, the recording rules that those rules' expressions select, and every alerting
  rule when an expression reads ``ALERTS`` / ``ALERTS_FOR_STATE``.

Whatever this cannot decide returns ``None`` (run with every rule, as promtool would): a
selector without a plain metric name (``{job="x"}``, ``{__name__=~"..."}``), a template that
runs ``query``, a rule file that is not the usual shape, ``group_eval_order``.
Groups keep their order, their options and the order of their kept rules.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from fleetwatch.config.durations import parse_duration
from fleetwatch.config.writers import dump_yaml
from fleetwatch.config.yamlpos import load_data
from fleetwatch.validate.promql import selectors

#: (rule file index, group index, rule index)
RuleId = tuple[int, int, int]

_ALERT_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})
_QUERY_TEMPLATE = re.compile(r"\bquery\b")


class RuleFiles:
    """Parsed rule files: what records which metric, and each rule's selected metric names."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs
        self.records: dict[str, list[RuleId]] = {}
        self.alerts: dict[str, list[RuleId]] = {}
        self.reads: dict[RuleId, frozenset[str] | None] = {}
        for f, doc in enumerate(docs):
            for g, group in enumerate(doc["groups"]):
                for r, rule in enumerate(group["rules"]):
                    rid = (f, g, r)
                    if "record" in rule:
                        self.records.setdefault(str(rule["record"]), []).append(rid)
                    else:
                        self.alerts.setdefault(str(rule["alert"]), []).append(rid)
                    self.reads[rid] = metric_names(str(rule["expr"]))

    @classmethod
    def load(cls, paths: Iterable[Path]) -> RuleFiles | None:
        """The rule files, or None when one is unreadable or not of a shape handled here."""
        docs = []
        for path in paths:
            try:
                data = load_data(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                return None
            if not _plain(data):
                return None
            docs.append(data)
        return cls(docs)

    def needed(self, case: Any) -> frozenset[RuleId] | None:
        """The rules ``case`` (one item of a test file's ``tests``) can observe, or None."""
        if not isinstance(case, dict):
            return None
        todo: list[RuleId] = []
        for item in _items(case, "alert_rule_test"):
            todo += self.alerts.get(str(item.get("alertname")), [])
        for item in _items(case, "promql_expr_test"):
            names = metric_names(str(item.get("expr", "")))
            if names is None:
                return None
            todo += self._producers(names)
        kept: set[RuleId] = set()
        while todo:
            rid = todo.pop()
            if rid in kept:
                continue
            kept.add(rid)
            names = self.reads[rid]
            if names is None:
                return None
            todo += self._producers(names)
        return frozenset(kept)

    def _producers(self, names: frozenset[str]) -> list[RuleId]:
        out = [rid for name in names for rid in self.records.get(name, ())]
        if names & _ALERT_SERIES:
            out += [rid for rids in self.alerts.values() for rid in rids]
        return out

    def write(self, keep: frozenset[RuleId], directory: Path) -> list[Path]:
        """The rule files with only ``keep`` (every group stays, maybe empty), under
        ``directory``; one file per original, in the same order."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for f, doc in enumerate(self.docs):
            groups = [
                {
                    **group,
                    "rules": [r for i, r in enumerate(group["rules"]) if (f, g, i) in keep],
                }
                for g, group in enumerate(doc["groups"])
            ]
            path = directory / f"rules.{f}.yml"
            path.write_text(dump_yaml({**doc, "groups": groups}), "utf-8")
            paths.append(path)
        return paths


def metric_names(expr: str) -> frozenset[str] | None:
    """The metric names ``expr`` selects, or None when a selector has no plain name."""
    names = set()
    for sel in selectors(expr):
        if sel.name is None:
            return None
        names.add(sel.name)
    return frozenset(names)


def horizon(cases: list[Any]) -> float:
    """Seconds promtool evaluates for ``cases``: each case's latest eval_time (+ a minute for
    its start-up), summed; an unreadable eval_time counts as 0."""
    total = 0.0
    for case in cases:
        times = [0.0]
        for item in _items(case, "alert_rule_test") + _items(case, "promql_expr_test"):
            with contextlib.suppress(ValueError):
                times.append(parse_duration(str(item.get("eval_time", "0"))))
        total += max(times) + 60
    return total


def _items(case: Any, key: str) -> list[dict[str, Any]]:
    items = case.get(key) if isinstance(case, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _plain(data: Any) -> bool:
    """A rule file of the usual shape: groups of rules, each an alert or a record with an
    expression, no template that queries, no other top-level key."""
    if (
        not isinstance(data, dict)
        or set(data) != {"groups"}
        or not isinstance(data["groups"], list)
    ):
        return False
    for group in data["groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
            return False
        for rule in group["rules"]:
            if not isinstance(rule, dict) or not isinstance(rule.get("expr"), str | int | float):
                return False
            if ("record" in rule) == ("alert" in rule):
                return False
            for key in ("labels", "annotations"):
                templates = rule.get(key) or {}
                if not isinstance(templates, dict):
                    return False
                if any(_QUERY_TEMPLATE.search(str(t)) for t in templates.values()):
                    return False
    return True
