"""Prometheus durations: the one parser every loader uses."""

from __future__ import annotations

import pytest

from fleetwatch.config.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("15s", 15.0), ("1m30s", 90.0), ("500ms", 0.5), ("1d", 86400.0),
     ("2w", 14 * 86400.0), ("1y", 365 * 86400.0), ("1h0m5s", 3605.0)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "1.5s", "s", "1m1h", "-1s", " 1s", "1S"])
def test_bad_durations_say_the_syntax(text: str) -> None:
    with pytest.raises(ValueError, match="use Prometheus syntax like 15s"):
        parse_duration(text)
