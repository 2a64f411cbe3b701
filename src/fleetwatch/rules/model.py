"""The typed form of rules/*.yaml, after validation (see rules/README.md for the YAML)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")
OPS: tuple[str, ...] = (">", ">=", "<", "<=", "==", "!=")
RESOURCES: tuple[str, ...] = ("cpu", "memory", "disk")
DEFAULT_HOST_DASHBOARD = "fw-server-detail"


@dataclass(frozen=True)
class Config:
    """``rules/config.yaml``: how annotations link out."""

    runbook_url_pattern: str | None = None
    grafana_url: str = "http://127.0.0.1:3000"


@dataclass(frozen=True)
class Threshold:
    """A number, or the host's ``instance:threshold:ratio{resource=...}`` from the inventory."""

    value: Decimal | None = None
    inventory: str | None = None


@dataclass(frozen=True)
class AlertTest:
    """A ``test:`` block (required for ``expr:`` alerts): input series and what fires."""

    input_series: tuple[Mapping[str, str], ...]
    labels: Mapping[str, str]
    value: float
    eval_time: str | None = None


@dataclass(frozen=True)
class Alert:
    """One threshold alert of a rules file; ``line`` is where it starts in the source."""

    name: str
    op: str
    threshold: Threshold
    severity: str
    summary: str
    description: str
    for_: str = "0s"
    for_seconds: float = 0.0
    metric: str | None = None
    expr: str | None = None
    scope: Mapping[str, str] = field(default_factory=dict)
    include_maintenance: bool = False
    #: the alert says its target (``instance``) is down: it mutes the targets that depend on
    #: that one (inventory ``depends_on`` → Alertmanager inhibit rules)
    down: bool = False
    runbook: str | None = None
    dashboard: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    test: AlertTest | None = None
    line: int = 0


@dataclass(frozen=True)
class Recording:
    """A user's recording rule, passed through after a name check."""

    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Slo:
    """A service level objective; ``objective`` in percent (``99.9``)."""

    name: str
    objective: Decimal
    error_query: str | None  # None: the built-in probe availability SLI
    total_query: str | None
    window: str = "30d"
    min_events_per_hour: Decimal = Decimal(12)
    page: str = "critical"
    ticket: str = "warning"
    summary: str | None = None
    runbook: str | None = None
    dashboard: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    probe_module: str | None = None
    line: int = 0

    @property
    def budget(self) -> Decimal:
        """The error budget as a ratio: 1 - objective / 100."""
        return 1 - self.objective / 100


@dataclass(frozen=True)
class RuleSource:
    """One ``rules/<name>.yaml``: what it asks for, in file order."""

    path: str
    name: str
    alerts: tuple[Alert, ...] = ()
    recording: tuple[Recording, ...] = ()
    aggregates: tuple[str, ...] = ()  # levels: deployment, provider
    slos: tuple[Slo, ...] = ()
    interval: str | None = None
    group: str | None = None


RuleDict = dict[str, Any]
