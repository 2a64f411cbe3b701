"""An exporter replica under ``scale:`` probes its own targets only (``--replica ID``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from tests.inventory.scale_fixtures import scale_yaml

from fleetwatch.errors import UsageError
from fleetwatch.exporters.server import Exporter
from fleetwatch.inventory import inventory_from_text
from fleetwatch.inventory.assign import assignment

INVENTORY = inventory_from_text(scale_yaml(hosts=8, exporters=2), "fleet.yaml")
OWNERS = assignment(INVENTORY)


def _one_of(replica: str, own: bool) -> str:
    return next(t for t, e in sorted(OWNERS.items()) if (e == replica) == own)


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    exporter = Exporter(INVENTORY)
    exporter.serve_replica("ex-0")
    async with TestClient(TestServer(exporter.app())) as c:
        yield c


async def _not_assigned(client: TestClient) -> float:
    text = await (await client.get("/metrics")).text()
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        if f.name == "fleetwatch_probe_errors"
        for s in f.samples
        if s.name.endswith("_total") and s.labels["reason"] == "not_assigned"
    )


async def test_own_target_is_probed_a_foreign_one_refused(client: TestClient) -> None:
    assert set(OWNERS.values()) == {"ex-0", "ex-1"}  # both replicas own targets here
    assert await _not_assigned(client) == 0  # the series exists from the start
    own, foreign = _one_of("ex-0", True), _one_of("ex-0", False)
    resp = await client.get("/probe", params={"target": own, "module": "local"})
    assert resp.status == 200
    assert "node_load1" in await resp.text()
    resp = await client.get("/probe", params={"target": foreign, "module": "local"})
    assert resp.status == 503
    body = await resp.text()
    assert body == f"target {foreign}: not_assigned: probed by exporter ex-1, this is ex-0\n"
    assert await _not_assigned(client) == 1
    index = await (await client.get("/")).text()
    assert own in index and foreign not in index


def test_unknown_replica_or_no_scale_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"not in scale\.exporters"):
        Exporter(INVENTORY).serve_replica("ex-9")
    plain = inventory_from_text(
        "version: 1\ndeployments:\n  - {name: a, provider: p, hosts: [{name: h}]}\n", "p.yaml"
    )
    with pytest.raises(UsageError, match="scale: section"):
        Exporter(plain).serve_replica("ex-0")


def test_cli_rejects_an_unknown_replica(tmp_path: Path) -> None:
    from fleetwatch.cli.main import cli

    path = tmp_path / "fleet.yaml"
    path.write_text(scale_yaml(hosts=2, exporters=2), encoding="utf-8")
    result = CliRunner().invoke(cli, ["exporter", "--inventory", str(path), "--replica", "nope"])
    assert result.exit_code != 0
    assert "not in scale.exporters (ex-0, ex-1)" in result.output
    assert "Traceback" not in result.output
