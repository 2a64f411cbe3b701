"""Prometheus durations: ``15s``, ``1m30s``, ``500ms``, ``1d``, ``2w``, ``1y`` (and ``0``)."""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNITS = (365 * 86400.0, 7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0, 0.001)


def parse_duration(text: str) -> float:
    """Seconds of a Prometheus duration; ValueError (with the expected syntax) if bad."""
    if text == "0":
        return 0.0
    m = _DURATION.match(text)
    if not text or m is None:
        raise ValueError(f"invalid duration {text!r}; use Prometheus syntax like 15s, 1m, 1m30s")
    return sum(float(g) * unit for g, unit in zip(m.groups(), _UNITS, strict=True) if g)
