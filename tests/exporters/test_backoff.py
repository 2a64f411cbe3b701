"""Backoff from a target that keeps failing the same way: skipped probes answer at once with
the last reason, counted; any other outcome ends it."""

from __future__ import annotations

import socket

import pytest
from prometheus_client import generate_latest

from fleetwatch.errors import ProbeError
from fleetwatch.exporters.backoff import AFTER, MAX_SECONDS, Backoff
from fleetwatch.exporters.server import Exporter
from fleetwatch.inventory import inventory_from_text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_doubles_per_interval_up_to_the_cap_and_resets() -> None:
    clock = Clock()
    b = Backoff(clock)
    b.failed("h", "ssh", "no_answer", "silent", 15.0)
    assert b.skip("h", "ssh") is None  # one failure: probe again
    waits = []
    for _ in range(8):
        b.failed("h", "ssh", "no_answer", "silent", 15.0)
        reason, detail = b.skip("h", "ssh") or ("", "")
        assert reason == "no_answer" and detail.startswith("silent (")
        waits.append(round(float(detail.split("next try in ")[1].rstrip("s)"))))
    assert waits == [15, 30, 60, 120, 120, 120, 120, 120]
    assert max(waits) == MAX_SECONDS
    assert b.backing_off() == {"ssh": 1}
    clock.now += 121
    assert b.skip("h", "ssh") is None  # its time is up: the next probe runs
    b.failed("h", "ssh", "auth_failed", "denied", 15.0)  # another reason starts afresh
    assert b.skip("h", "ssh") is None
    b.failed("h", "ssh", "auth_failed", "denied", 15.0)
    assert b.skip("h", "ssh") is not None
    b.succeeded("h", "ssh")
    assert b.skip("h", "ssh") is None and b.backing_off() == {}


async def test_a_refusing_host_is_skipped_after_failing_twice() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = inventory_from_text(
        f"""version: 1
deployments:
  - name: d
    provider: p
    hosts:
      - name: gone
        address: 127.0.0.1
        ssh: {{port: {port}, known_hosts: "off"}}
""",
        "<t>",
    )
    exporter = Exporter(inv)
    try:
        for _ in range(AFTER):
            with pytest.raises(ProbeError, match="connection_refused"):
                await exporter.probe("gone", "ssh", 2.0)
        with pytest.raises(ProbeError, match=r"failures in a row; next try in \d+s"):
            await exporter.probe("gone", "ssh", 2.0)
    finally:
        await exporter.close()
    text = generate_latest(exporter.metrics.registry).decode()
    assert 'fleetwatch_probes_skipped_total{module="ssh"} 1.0' in text
    assert 'fleetwatch_targets_backing_off{module="ssh"} 1.0' in text
    assert 'fleetwatch_probe_errors_total{module="ssh",reason="connection_refused"} 2.0' in text
