"""``fleetwatch validate``: prove dashboards, rules and configs before they ship.

Public API: ``validate`` / ``run`` (engine), ``Finding``, ``Promtool`` / ``Amtool``,
``render`` (report formats).  Rule ids and their meaning: ``ALL_RULES``.
"""

from __future__ import annotations

from fleetwatch.validate.dashboards import RULES as DASHBOARD_RULES
from fleetwatch.validate.engine import Result, run, validate
from fleetwatch.validate.exceptions import DEFAULT_FILE as DEFAULT_EXCEPTIONS_FILE
from fleetwatch.validate.exceptions import RULES as EXCEPTION_RULES
from fleetwatch.validate.findings import Finding
from fleetwatch.validate.promtool import Amtool, Promtool
from fleetwatch.validate.report import FORMATS, render
from fleetwatch.validate.rules import RULES as RULE_FILE_RULES

ALL_RULES: dict[str, str] = {
    **DASHBOARD_RULES,
    **RULE_FILE_RULES,
    "promtool-config": "`promtool check config` accepts prometheus.yml (and its rule/sd files)",
    "amtool-config": "`amtool check-config` accepts the Alertmanager config",
    "parse": "the file can be read and parsed",
    "unknown-file": "(warning) a file that is none of the known kinds was skipped",
    **EXCEPTION_RULES,
}

__all__ = [
    "ALL_RULES",
    "DEFAULT_EXCEPTIONS_FILE",
    "FORMATS",
    "Amtool",
    "Finding",
    "Promtool",
    "Result",
    "render",
    "run",
    "validate",
]
