"""`fleetwatch up`'s status table: a target not scraped yet is not called down."""

from __future__ import annotations

from fleetwatch.stack import status_table


def test_status_table_tells_pending_from_down() -> None:
    rows = [
        {"job": "fleetwatch", "instance": "127.0.0.1:9717", "health": "up", "error": ""},
        {"job": "local_15s", "instance": "localhost", "health": "unknown", "error": ""},
        {"job": "ssh_30s", "instance": "web-1", "health": "down", "error": "503 " + "x" * 100},
    ]
    lines = status_table(rows).splitlines()
    assert lines[0].split() == ["JOB", "INSTANCE", "HEALTH", "LAST", "ERROR"]
    assert lines[-1] == "1 up, 1 down, 1 not scraped yet"
    assert len(lines[3].split("  ")[-1].strip()) <= 60  # long errors cut to one readable line
    assert status_table(rows[:1]).splitlines()[-1] == "1 up, 0 down"
    assert status_table([]) == "no targets yet"
