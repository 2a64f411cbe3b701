"""Service modules through the exporter's HTTP contract, with services declared in an inventory:
the same /probe?target=&module= as hosts, and a dead service answers up 0 with its reason."""

from __future__ import annotations

import socket

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fleetwatch.exporters.server import Exporter
from fleetwatch.inventory import inventory_from_text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
async def test_redis_and_postgres_services_via_probe(redis_server, postgres) -> None:  # type: ignore[no-untyped-def]
    inv = inventory_from_text(
        f"""
version: 1
deployments:
  - name: platform
    provider: loopback
    services:
      - {{name: cache, module: redis, address: "127.0.0.1:{redis_server.port}",
         params: {{check_keys: ["bull:emails:wait"]}}}}
      - {{name: db, module: postgres, address: "127.0.0.1:{postgres.port}",
         params: {{user: postgres}}}}
      - {{name: gone, module: redis, address: "127.0.0.1:{_closed_port()}"}}
""",
        "<test>",
    )
    async with TestClient(TestServer(Exporter(inv).app())) as client:
        cache = await client.get("/probe", params={"target": "cache"})
        assert cache.status == 200
        text = await cache.text()
        assert "redis_up 1.0" in text
        assert 'redis_key_size{db="db0",key="bull:emails:wait"}' in text
        db = await client.get("/probe", params={"target": "db", "module": "postgres"})
        assert db.status == 200
        assert "pg_up 1.0" in await db.text()
        gone = await client.get("/probe", params={"target": "gone"})
        assert gone.status == 200  # as redis_exporter: the target answers, redis_up says 0
        assert "redis_up 0.0" in await gone.text()
        wrong = await client.get("/probe", params={"target": "cache", "module": "ssh"})
        assert wrong.status == 400
