"""Which findings count, and how much: profiles, disabled rules, severity overrides.

A finding's severity comes from its rule (``Rule.severity``; a finding made as a warning
stays one).  House-style rules (``Rule.style``) are errors under the ``strict`` profile and
``info`` under ``default``; profile ``auto`` (the default) is ``strict`` for files that
``fleetwatch build`` wrote and ``default`` for every other file.  Then the team's choices
apply, from the command line (``--disable RULE``, ``--severity RULE=LEVEL``) and from the
``rules:`` list of the exceptions file (each entry with a reason), the command line last.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fleetwatch.validate.findings import SEVERITIES, Finding, Rule, Severity

Profile = Literal["auto", "default", "strict"]
PROFILES: tuple[Profile, ...] = ("auto", "default", "strict")
#: a severity override may also switch a rule off
LEVELS = (*SEVERITIES, "off")


@dataclass(frozen=True)
class Policy:
    profile: Profile = "auto"
    #: rule id -> "error" / "warning" / "info" / "off"
    levels: Mapping[str, str] = field(default_factory=dict)

    def strict_for(self, file: str, own: Collection[str]) -> bool:
        return self.profile == "strict" or (self.profile == "auto" and file in own)

    def severity(self, finding: Finding, rule: Rule | None, strict: bool) -> Severity | None:
        """The severity ``finding`` is reported with, or None when its rule is off."""
        level = self.levels.get(finding.rule)
        if level == "off":
            return None
        if level in SEVERITIES:
            return level
        sev = finding.severity
        if rule is None:
            return sev
        if rule.severity != "error" and sev == "error":
            sev = rule.severity
        if rule.style and not strict:
            return "info"
        return sev

    def apply(
        self, findings: Iterable[Finding], rules: Mapping[str, Rule], own: Collection[str]
    ) -> list[Finding]:
        out: list[Finding] = []
        for f in findings:
            sev = self.severity(f, rules.get(f.rule), self.strict_for(f.file, own))
            if sev is None:
                continue
            out.append(f if sev == f.severity else _with(f, sev))
        return out


def _with(f: Finding, severity: Severity) -> Finding:
    return Finding(f.file, f.rule, f.message, f.location, severity, f.line)


def parse_level(text: str) -> tuple[str, str]:
    """``RULE=LEVEL`` of ``--severity`` -> (rule, level); ValueError naming the problem."""
    rule, sep, level = text.partition("=")
    rule, level = rule.strip(), level.strip().lower()
    if not sep or not rule or level not in LEVELS:
        raise ValueError(f"{text!r}: expected RULE=LEVEL with LEVEL one of {', '.join(LEVELS)}")
    return rule, level


def levels_from_config(
    entries: Any, file: str, known: Collection[str], line_of: Any
) -> tuple[dict[str, str], list[Finding]]:
    """The ``rules:`` list of the exceptions file: ``{rule, severity | disable, reason}``.

    ``line_of(index)`` gives the line of entry ``index``.  An entry without a reason, or
    naming an unknown rule, is an error and changes nothing.
    """
    levels: dict[str, str] = {}
    problems: list[Finding] = []

    def bad(i: int, msg: str) -> None:
        problems.append(Finding(file, "exceptions-file", msg, f"rules[{i}]", line=line_of(i)))

    if not isinstance(entries, list):
        bad(0, "rules: expected a list of {rule, severity or disable, reason}")
        return levels, problems
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            bad(i, "expected a mapping {rule, severity or disable, reason}")
            continue
        rule = entry.get("rule")
        reason = entry.get("reason")
        if not isinstance(rule, str) or rule not in known:
            bad(i, f"unknown rule {rule!r} (fleetwatch validate --list-rules)")
            continue
        if not isinstance(reason, str) or not reason.strip():
            problems.append(
                Finding(
                    file,
                    "exception-reason",
                    f"rule {rule}: give a reason",
                    f"rules[{i}]",
                    line=line_of(i),
                )
            )
            continue
        if entry.get("disable") is True:
            levels[rule] = "off"
        elif str(entry.get("severity", "")).lower() in LEVELS:
            levels[rule] = str(entry["severity"]).lower()
        else:
            bad(i, f"rule {rule}: set severity ({', '.join(LEVELS)}) or disable: true")
    return levels, problems
