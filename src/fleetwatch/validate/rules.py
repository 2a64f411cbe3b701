"""Prometheus rule files: promtool's findings and the recording rule names they define.

The names join the catalog so dashboards may query recorded series.  Alert lints come later.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleetwatch.validate.findings import Finding, Rule
from fleetwatch.validate.promtool import Promtool

RULES: dict[str, Rule] = {
    "promtool-rules": Rule("`promtool check rules` accepts the file"),
}


def is_rule_file(data: Any) -> bool:
    """A parsed YAML document that looks like a Prometheus rule file (``groups:``)."""
    return isinstance(data, dict) and isinstance(data.get("groups"), list)


def recorded_names(data: Any) -> set[str]:
    """``record:`` names of a parsed rule file (odd shapes are promtool's to report)."""
    names: set[str] = set()
    groups = data.get("groups") if isinstance(data, dict) else None
    for group in groups if isinstance(groups, list) else []:
        rules = group.get("rules") if isinstance(group, dict) else None
        for rule in rules if isinstance(rules, list) else []:
            record = rule.get("record") if isinstance(rule, dict) else None
            if isinstance(record, str) and record:
                names.add(record)
    return names


def check_rule_files(paths: Sequence[Path], tool: Promtool) -> list[Finding]:
    """``promtool check rules`` over all ``paths`` in one run."""
    return tool.check_rules(list(paths))
