"""``fleetwatch validate``: prove dashboards, rules and configs before they ship.

Public API: ``validate`` / ``run`` (engine), ``Finding``, ``Promtool`` / ``Amtool``,
``render`` (report formats).  Rule ids and their meaning: ``all_rules()``, from the checks.
"""

from __future__ import annotations

from fleetwatch.validate import (
    alert_lints,
    alertmanager,
    dashboards,
    engine,
    exceptions,
    rule_checks,
    rules,
    semantics,
    sources,
)
from fleetwatch.validate.engine import Result, run, validate
from fleetwatch.validate.exceptions import DEFAULT_FILE as DEFAULT_EXCEPTIONS_FILE
from fleetwatch.validate.findings import Finding, Rule
from fleetwatch.validate.promtool import Amtool, Promtool
from fleetwatch.validate.report import FORMATS, render

#: the check modules, each declaring the rule ids it reports in its ``RULES``
CHECKS = (
    sources,
    engine,
    dashboards,
    semantics,
    rules,
    rule_checks,
    alert_lints,
    alertmanager,
    exceptions,
)


def all_rules() -> dict[str, Rule]:
    """Every rule id a check reports, with its meaning and severity (`validate --list-rules`)."""
    return {rule: meaning for check in CHECKS for rule, meaning in check.RULES.items()}


__all__ = [
    "CHECKS",
    "DEFAULT_EXCEPTIONS_FILE",
    "FORMATS",
    "Amtool",
    "Finding",
    "Promtool",
    "Result",
    "all_rules",
    "render",
    "run",
    "validate",
]
