"""Bounded probes: no request can make a probe outlive its target's scrape interval, so 64
unauthenticated requests asking ``X-Prometheus-Scrape-Timeout-Seconds: inf`` of a host that
never answers cannot hold every slot; HEAD does not probe; errors do not reveal the inventory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fleetwatch.exporters.server import MAX_TIMEOUT, MIN_TIMEOUT, Exporter, probe_timeout
from fleetwatch.inventory import inventory_from_text
from servers import Sshd

INTERVAL = 2.0


@pytest.mark.parametrize(
    ("header", "cap", "expected"),
    [("inf", MAX_TIMEOUT, MAX_TIMEOUT), ("1e9", 15.0, 15.0), ("Infinity", 2.0, 2.0),
     ("nan", 2.0, 2.0), ("10", 2.0, 2.0), ("10", 30.0, 9.5), (None, 5.0, 5.0),
     ("0.1", 30.0, MIN_TIMEOUT), ("inf", 1e9, MAX_TIMEOUT)],
)  # fmt: skip
def test_the_deadline_is_capped(header: str | None, cap: float, expected: float) -> None:
    assert probe_timeout(header, cap) == expected


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A TCP listener that accepts and never says a word (not even an SSH banner)."""
    try:
        await reader.read()
    finally:
        writer.close()


def _inventory(sshd: Sshd, mute_port: int) -> str:
    return f"""version: 1
defaults: {{scrape_interval: {INTERVAL:g}s}}
deployments:
  - name: d
    provider: p
    hosts:
      - {{name: me, address: localhost, modules: [local]}}
      - name: web
        address: 127.0.0.1
        ssh: {{user: {sshd.user}, port: {sshd.port}, identity_file: {sshd.client_key},
              known_hosts_file: {sshd.known_hosts}, use_agent: false}}
      - name: mute
        address: 127.0.0.1
        ssh: {{port: {mute_port}, known_hosts: "off", use_agent: false}}
"""


@pytest.fixture
async def attacked(sshd: Sshd) -> AsyncIterator[TestClient]:
    listener = await asyncio.start_server(_silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    inv = inventory_from_text(_inventory(sshd, port), "/secret/path/fleet.yaml")
    exporter = Exporter(inv, max_concurrency=64)
    try:
        async with TestClient(TestServer(exporter.app())) as client:
            yield client
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.mark.e2e
@pytest.mark.timeout(60)
async def test_inf_requests_end_at_the_interval_and_others_keep_working(
    attacked: TestClient,
) -> None:
    inf = {"X-Prometheus-Scrape-Timeout-Seconds": "inf"}

    async def probe(target: str, headers: dict[str, str]) -> tuple[int, float, str]:
        t0 = time.monotonic()
        resp = await attacked.get("/probe", params={"target": target}, headers=headers)
        return resp.status, time.monotonic() - t0, await resp.text()

    scrape = {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"}
    assert (await probe("web", scrape))[0] == 200  # its connection is set up before
    attack = [asyncio.ensure_future(probe("mute", inf)) for _ in range(64)]
    await asyncio.sleep(0.5)  # as many slots taken as the mute host can take by now
    for target in ("web", "me"):  # healthy hosts, over SSH as the attacked one, and local
        status, took, body = await probe(target, scrape)
        assert status == 200 and "node_load1" in body, (target, body)
        assert took < 1.5, target
    results = await asyncio.gather(*attack)
    assert {s for s, _, _ in results} == {503}
    # each ended by its scrape interval (plus the outer grace), not by the attacker's "inf"
    assert max(t for _, t, _ in results) < INTERVAL + 1.0 + 3.0
    # the few that got the host's slots say what the host did; the rest waited their deadline
    reasons = {text.split(": ")[1] for _, _, text in results}
    assert reasons <= {"no_banner", "timeout"} and "no_banner" in reasons, reasons


@pytest.mark.e2e
async def test_head_does_not_probe_and_errors_hide_the_inventory(attacked: TestClient) -> None:
    head = await attacked.head("/probe", params={"target": "me"})
    assert head.status == 405
    unknown = await attacked.get("/probe", params={"target": "nope"})
    text = await unknown.text()
    assert unknown.status == 400 and "not in the inventory" in text
    assert "/secret/path" not in text
