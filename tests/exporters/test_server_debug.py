"""``/probe?debug=true`` (blackbox_exporter's form): why a probe failed, in words, with the
metrics it would have returned."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fleetwatch.exporters.server import Exporter
from fleetwatch.inventory import inventory_from_text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    port = _closed_port()
    inv = inventory_from_text(
        f"""version: 1
deployments:
  - name: d
    provider: p
    hosts:
      - {{name: me, address: localhost, modules: [local]}}
      - {{name: gone, address: 127.0.0.1, ssh: {{port: {port}, known_hosts: "off"}}}}
    services:
      - {{name: cache, module: redis, address: "127.0.0.1:{port}"}}
""",
        "<t>",
    )
    async with TestClient(TestServer(Exporter(inv).app())) as c:
        yield c


async def _debug(client: TestClient, target: str) -> str:
    resp = await client.get("/probe", params={"target": target, "debug": "true"})
    assert resp.status == 200
    return await resp.text()


async def test_a_down_service_says_why(client: TestClient) -> None:
    text = await _debug(client, "cache")
    logs, metrics = text.split("\n\nMetrics that would have been returned:\n")
    assert "target=cache module=(first of the target)" in logs
    assert "target down (answered with its success gauge 0): reason=connect" in logs
    assert "redis_up 0.0" in metrics or "redis_up 0" in metrics


async def test_a_failed_host_says_why_and_a_good_one_shows_its_metrics(client: TestClient) -> None:
    text = await _debug(client, "gone")
    assert "probe failed: reason=connection_refused" in text
    good = await _debug(client, "me")
    assert "probe failed" not in good and "node_load1 " in good
    plain = await client.get("/probe", params={"target": "gone"})
    assert plain.status == 503  # without debug, Prometheus' contract as before


async def test_the_target_list_can_be_switched_off() -> None:
    inv = inventory_from_text(
        "version: 1\ndeployments:\n  - {name: d, provider: p, hosts: [{name: secret-db-1, "
        "address: localhost, modules: [local]}]}\n",
        "<t>",
    )
    exporter = Exporter(inv)
    async with TestClient(TestServer(exporter.app())) as c:
        assert "secret-db-1" in await (await c.get("/")).text()
        exporter.list_targets = False  # fleetwatch exporter --no-target-list
        page = await (await c.get("/")).text()
        assert "secret-db-1" not in page and "/metrics" in page
