"""The module interface of the exporter: one kind of target behind ``/probe?module=``.

The HTTP layer knows modules only through this interface; a module knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fleetwatch.exporters.families import Families, Spec
from fleetwatch.inventory.model import Host, Service

#: what a module probes: an inventory host (host modules) or service (service modules)
Target = Host | Service


@dataclass
class ProbeResult:
    """The samples of one probe, and the parts of it that failed (source → reason)."""

    families: Families
    errors: dict[str, str] = field(default_factory=dict)
    #: parts whose source is absent on the target (not errors; success 0 as node_exporter)
    absent: list[str] = field(default_factory=list)
    #: the exposition, when it was rendered elsewhere (a parse worker); ``families`` is then
    #: empty
    body: bytes | None = None
    #: the reason label when the target failed as a whole yet answers (a service module's
    #: success gauge 0); counted in ``fleetwatch_probe_errors_total{module,reason}``
    down: str | None = None

    def exposition(self) -> bytes:
        """The text exposition format of the samples."""
        return self.body if self.body is not None else self.families.render()


class Module(Protocol):
    """A probe module.  ``probe`` raises ``ProbeError`` when the target fails as a whole."""

    name: str
    description: str

    def specs(self) -> list[Spec]:
        """Every metric family the module can emit (its catalog)."""
        ...

    async def probe(self, target: Target, timeout: float) -> ProbeResult:
        """Collect from ``target`` (a Host for host modules, a Service for the others) within
        ``timeout`` seconds; raise ProbeError(target.name, reason, detail) when it fails."""
        ...

    async def close(self) -> None:
        """Release pooled connections."""
        ...

    def pool_size(self) -> int:
        """Open pooled connections (0 for modules without a pool)."""
        ...
