"""Back off from a target that keeps failing the same way.

A host that is down, refuses, floods its output or never answers costs a probe slot and its
whole deadline on every scrape. After ``AFTER`` failures in a row with the same reason, the
next probes are skipped for one scrape interval, then two, four... (at most ``MAX_INTERVALS``
intervals, and ``MAX_SECONDS``): a skipped probe answers at once with the last reason, so
``up`` stays 0 as it would, and ``fleetwatch_probes_skipped_total`` counts them. Any other
outcome (a success, another reason) ends the backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

AFTER = 2
MAX_INTERVALS = 8
MAX_SECONDS = 120.0


@dataclass
class _Failing:
    reason: str
    detail: str
    count: int = 1
    until: float = 0.0  # monotonic time before which probes are skipped


class Backoff:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failing: dict[tuple[str, str], _Failing] = {}

    def skip(self, target: str, module: str) -> tuple[str, str] | None:
        """(reason, detail) when the probe is to be skipped now, else None."""
        failing = self._failing.get((target, module))
        if failing is None or self._clock() >= failing.until:
            return None
        wait = failing.until - self._clock()
        return failing.reason, (
            f"{failing.detail} ({failing.count} failures in a row; next try in {wait:.0f}s)"
        )

    def failed(self, target: str, module: str, reason: str, detail: str, interval: float) -> None:
        key = (target, module)
        failing = self._failing.get(key)
        if failing is None or failing.reason != reason:
            failing = self._failing[key] = _Failing(reason, detail)
        else:
            failing.count += 1
            failing.detail = detail
        if failing.count >= AFTER:
            intervals = min(2 ** (failing.count - AFTER), MAX_INTERVALS)
            failing.until = self._clock() + min(intervals * interval, MAX_SECONDS)

    def succeeded(self, target: str, module: str) -> None:
        self._failing.pop((target, module), None)

    def backing_off(self) -> dict[str, int]:
        """Targets whose probes are skipped now, by module."""
        now = self._clock()
        out: dict[str, int] = {}
        for (_, module), failing in self._failing.items():
            if now < failing.until:
                out[module] = out.get(module, 0) + 1
        return out
