"""The exceptions file: findings a team accepts, each with a reason.

``.fleetwatch-exceptions.yaml`` (or ``--exceptions FILE``) is a YAML list (or a mapping with an
``exceptions:`` list) of ``{rule, file, location, reason}``: ``rule``, ``file`` and
``location`` are globs (``file`` also matches a path's trailing parts: ``*.json``,
``dashboards/node.json``; ``location`` is optional), ``reason`` is required.  A matching
finding is suppressed; an exception without a reason is an error and suppresses nothing; one
that matched nothing is reported as a stale warning.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from fleetwatch.config.yamlpos import load_data
from fleetwatch.validate.findings import Finding, Rule
from fleetwatch.validate.policy import levels_from_config

DEFAULT_FILE = ".fleetwatch-exceptions.yaml"
RULES: dict[str, Rule] = {
    "exceptions-file": Rule(
        "the exceptions file is a list of {rule, file, location, reason}, or a mapping with "
        "`exceptions:` and `rules:` ({rule, severity | disable, reason})"
    ),
    "exception-reason": Rule("every exception and rule setting gives a non-empty reason"),
    "exception-stale": Rule("every exception still matches a finding", "warning"),
}


@dataclass(frozen=True)
class Exemption:
    rule: str
    file: str
    location: str
    reason: str
    line: int | None = None

    def matches(self, finding: Finding) -> bool:
        if not fnmatchcase(finding.rule, self.rule):
            return False
        if not _file_matches(finding.file, self.file):
            return False
        loc = self.location
        return not loc or loc == finding.location or fnmatchcase(finding.location, loc)


def _file_matches(file: str, pattern: str) -> bool:
    file = file.replace("\\", "/").removeprefix("./")
    pattern = pattern.replace("\\", "/").removeprefix("./")
    return fnmatchcase(file, pattern) or PurePosixPath(file).match(pattern)


def load_exceptions(
    path: Path, known_rules: Collection[str] = ()
) -> tuple[list[Exemption], dict[str, str], list[Finding]]:
    """The valid exemptions of ``path``, its rule levels (the ``rules:`` list of a mapping
    file: ``{rule, severity | disable, reason}``) and the findings about the file itself."""
    exemptions, levels, findings = [], {}, []  # type: ignore[var-annotated]
    try:
        exemptions, findings, levels = _load(path, known_rules)
    except RecursionError:
        findings = [Finding(str(path), "exceptions-file", "nested too deeply")]
    return exemptions, levels, findings


def _load(
    path: Path, known_rules: Collection[str]
) -> tuple[list[Exemption], list[Finding], dict[str, str]]:
    file = str(path)

    def bad(rule: str, message: str, line: int | None = None) -> Finding:
        return Finding(file, rule, message, line=line)

    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = load_data(text)
    except OSError as exc:
        return [], [bad("exceptions-file", f"cannot read: {exc.strerror or exc}")], {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [], [bad("exceptions-file", f"invalid YAML: {exc}".splitlines()[0], line)], {}
    levels: dict[str, str] = {}
    problems: list[Finding] = []
    if isinstance(data, dict):
        rules_node = next((v for k, v in getattr(node, "value", []) if k.value == "rules"), None)
        if "rules" in data:
            rule_lines = [item.start_mark.line + 1 for item in getattr(rules_node, "value", [])]
            levels, problems = levels_from_config(
                data["rules"], file, known_rules,
                lambda i: rule_lines[i] if i < len(rule_lines) else None,
            )  # fmt: skip
        data = data.get("exceptions")
        node = next((v for k, v in getattr(node, "value", []) if k.value == "exceptions"), None)
    if data is None:
        return [], problems, levels
    if not isinstance(data, list):
        return [], [*problems, bad("exceptions-file", "expected a list of exceptions")], levels
    lines = [item.start_mark.line + 1 for item in getattr(node, "value", [])]
    exemptions: list[Exemption] = []
    findings: list[Finding] = []
    for i, entry in enumerate(data):
        line = lines[i] if i < len(lines) else None
        if not isinstance(entry, dict):
            findings.append(bad("exceptions-file", f"exception #{i + 1} is not a mapping", line))
            continue
        missing = [k for k in ("rule", "file") if not isinstance(entry.get(k), str)]
        if missing:
            msg = f"exception #{i + 1} needs {' and '.join(missing)} (a glob)"
            findings.append(bad("exceptions-file", msg, line))
            continue
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            msg = f"exception for rule {entry['rule']!r} on {entry['file']!r} gives no reason"
            findings.append(bad("exception-reason", msg, line))
            continue
        location = entry.get("location")
        loc = location if isinstance(location, str) else ""
        exemptions.append(Exemption(entry["rule"], entry["file"], loc, reason.strip(), line))
    return exemptions, findings + problems, levels


def apply_exceptions(
    findings: Iterable[Finding], exemptions: list[Exemption], exceptions_file: str
) -> list[Finding]:
    """``findings`` without the exempted ones, plus a warning per stale exemption."""
    used: set[int] = set()
    kept: list[Finding] = []
    for finding in findings:
        hit = next((i for i, e in enumerate(exemptions) if e.matches(finding)), None)
        if hit is None:
            kept.append(finding)
        else:
            used.add(hit)
    for i, e in enumerate(exemptions):
        if i not in used:
            where = f" at {e.location!r}" if e.location else ""
            msg = (
                f"exception for rule {e.rule!r} on {e.file!r}{where} matched no finding: remove it"
            )
            kept.append(Finding(exceptions_file, "exception-stale", msg, "", "warning", e.line))
    return kept
