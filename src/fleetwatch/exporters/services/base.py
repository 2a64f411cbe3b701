"""The handler every service module shares (blackbox_exporter's prober / handler split).

A service module is a prober: its wire client, its metric builder and how its client's errors
read (``classify``).  ``ServiceModule.probe`` is the handler and owns, once for every module:
the typed ``Service`` and its params and secrets, the deadline, the success gauge
(``probe_success``, or the standard exporter's ``pg_up`` / ``redis_up``),
``probe_duration_seconds`` where the module answers it, per-section error capture and the
failure policy:

- the service fails as a whole (``ServiceDown``: refused, timed out, a refused login, an answer
  that is not the protocol): HTTP 200 with the success gauge 0, the reason in
  ``ProbeResult.errors`` and ``ProbeResult.down`` (which the exporter counts in
  ``fleetwatch_probe_errors_total{module,reason}``), as blackbox and the standard exporters do;
- a part fails (``Probe.section``): that part's reason in ``errors[part]``, the probe goes on;
- anything else is a bug of the module: it propagates, and the exporter answers 503 with
  ``reason="internal"`` and logs its traceback once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, cast

from fleetwatch.exporters.families import Families, Spec, gauge
from fleetwatch.exporters.module import ProbeResult, Target
from fleetwatch.inventory.model import Service

#: blackbox_exporter's two families every probing module answers with
SUCCESS = gauge("probe_success", "Displays whether or not the probe was a success")
DURATION = gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds")


class ServiceDown(Exception):
    """The service failed as a whole; ``reason`` is a short label, ``detail`` one line.

    ``source`` is the key of ``ProbeResult.errors`` (default: the module's name); ``families``
    are samples the module still answers with (blackbox's http prober: the status code 0).
    """

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        source: str | None = None,
        families: Families | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.source = source
        self.families = families


def params_schema(module: str) -> dict[str, Any]:
    """The JSON Schema of ``module``'s params: ``<module>.params.json`` beside its code, data that
    the inventory reads without importing exporter code."""
    text = resources.files(__package__).joinpath(f"{module}.params.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


def capped_timeout(params: Mapping[str, Any], timeout: float) -> float:
    """The probe's timeout, lowered to the service's ``timeout_seconds`` param when it is set."""
    limit = params.get("timeout_seconds")
    if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0:
        return min(timeout, float(limit))
    return timeout


@dataclass
class Probe:
    """One probe of one service, as the module's ``collect`` sees it."""

    module: ServiceModule
    target: Service
    #: seconds for the whole probe (the scrape's, capped by ``params.timeout_seconds``)
    timeout: float
    out: Families = field(default_factory=Families)
    errors: dict[str, str] = field(default_factory=dict)
    #: ``time.monotonic()`` by which the probe must be done
    deadline: float = 0.0
    #: the module's own state of this probe, for its ``classify`` and ``timed_out``
    state: object = None

    @property
    def params(self) -> Mapping[str, Any]:
        return self.target.params

    @property
    def address(self) -> str:
        return self.target.address

    def secret(self, key: str) -> str | None:
        """A secret read now from its reference (``<key>_env`` / ``<key>_file``), never kept."""
        return self.target.secret(key)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def reset(self) -> None:
        """Forget the samples and errors so far (before a second attempt)."""
        self.out, self.errors = Families(), {}

    def down(self, exc: Exception) -> ServiceDown | None:
        """``exc`` as a ServiceDown when the module recognises it; None: a bug."""
        return exc if isinstance(exc, ServiceDown) else self.module.classify(exc, self)

    @contextlib.contextmanager
    def section(
        self, name: str, fatal: Callable[[Exception], bool] | None = None
    ) -> Iterator[None]:
        """A part of the probe: an error the module recognises goes to ``errors[name]`` and the
        probe goes on; ``fatal`` ones (a dropped connection) and bugs propagate."""
        try:
            yield
        except Exception as exc:
            down = None if fatal is not None and fatal(exc) else self.down(exc)
            if down is None:
                raise
            self.errors[name] = str(down)


class ServiceModule:
    """The base of a service module: subclasses set ``name`` and ``description``, implement
    ``specs`` and ``collect``, and classify their client's errors."""

    name: str
    description: str
    #: the success gauge, 1 when ``collect`` returned, 0 when it raised ``ServiceDown``
    success: ClassVar[Spec] = SUCCESS
    #: ``probe_duration_seconds``, or None for modules whose standard exporter has none
    duration: ClassVar[Spec | None] = DURATION
    #: seconds the handler's deadline waits past the probe's timeout, for clients that keep
    #: the deadline themselves and name the step that missed it
    grace: ClassVar[float] = 0.0

    def specs(self) -> list[Spec]:
        raise NotImplementedError

    async def collect(self, probe: Probe) -> None:
        """Fill ``probe.out`` (and ``probe.errors`` for failed parts); raise ``ServiceDown``
        when the service fails as a whole."""
        raise NotImplementedError

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        """The ServiceDown an error of the module's client means; None when it is a bug."""
        return None

    def timed_out(self, probe: Probe) -> ServiceDown:
        """The failure when the handler's deadline ends the probe."""
        return ServiceDown("timeout", "no complete answer within the probe deadline")

    async def probe(self, target: Target, timeout: float) -> ProbeResult:
        if not isinstance(target, Service):  # the exporter never routes a host here
            raise TypeError(f"module {self.name} probes services only, not host {target.name}")
        t0 = time.perf_counter()
        timeout = capped_timeout(target.params, timeout)
        probe = Probe(self, target, timeout, deadline=time.monotonic() + timeout)
        scope = asyncio.timeout(timeout + self.grace)
        down: ServiceDown | None = None
        try:
            async with scope:
                await self.collect(probe)
        except ServiceDown as exc:
            down = exc
        except Exception as exc:
            down = self.timed_out(probe) if scope.expired() else self.classify(exc, probe)
            if down is None:
                raise
        if down is not None:
            probe.out = down.families or Families()
            probe.errors[down.source or self.name] = str(down)
        probe.out.add(self.success, 1 if down is None else 0)
        if self.duration is not None:
            probe.out.add(self.duration, time.perf_counter() - t0)
        return ProbeResult(probe.out, probe.errors, down=None if down is None else down.reason)

    async def close(self) -> None:
        """Release what the module keeps across probes (nothing by default)."""

    def pool_size(self) -> int:
        return 0


if TYPE_CHECKING:
    from fleetwatch.exporters.module import Module

    def _is_a_module(module: ServiceModule) -> Module:
        return module  # mypy checks here that the base satisfies the module interface
