"""A finding: one problem (or warning) in one file, named by a short kebab-case rule id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    """What a rule id means: its one-line summary, its severity, and whether it is house style.

    ``style`` rules are fleetwatch's own conventions: errors on fleetwatch's build (profile
    ``strict``), ``info`` on files users bring (profile ``default``).  A finding made with
    ``severity="warning"`` stays a warning where the rule's own severity is ``error``.
    """

    summary: str
    severity: Severity = "error"
    style: bool = False


@dataclass(frozen=True)
class Finding:
    """``file`` as given on the command line; ``location`` is human (``panel 12 "CPU Busy"``)."""

    file: str
    rule: str
    message: str
    location: str = ""
    severity: Severity = "error"
    line: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def sort_key(f: Finding) -> tuple[str, int, str, str, str, str]:
    return (f.file, f.line or 0, f.rule, f.location, f.message, f.severity)


def normalize(findings: Iterable[Finding]) -> list[Finding]:
    """Deduplicated and sorted by file, line, rule, location."""
    return sorted(set(findings), key=sort_key)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.is_error for f in findings)
