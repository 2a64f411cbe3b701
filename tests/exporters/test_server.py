"""The exporter's HTTP contract: /probe status codes, deadlines and its own metrics."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from fleetwatch.exporters.server import DEFAULT_TIMEOUT, Exporter, probe_timeout
from fleetwatch.inventory import inventory_from_text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


INVENTORY = """
version: 1
deployments:
  - name: here
    provider: local
    hosts:
      - {{name: me, address: localhost, modules: [local]}}
      - name: dead
        address: 127.0.0.1
        ssh: {{port: {port}, known_hosts: "off", use_agent: false}}
"""


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    inv = inventory_from_text(INVENTORY.format(port=_closed_port()), "<test>")
    exporter = Exporter(inv)
    async with TestClient(TestServer(exporter.app())) as c:
        yield c


def _families(text: str) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


async def _own(client: TestClient, family: str, suffix: str, *labels: str) -> dict[tuple, float]:
    """One family of the exporter's own /metrics: label values -> value, for one sample suffix."""
    metrics = _families(await (await client.get("/metrics")).text())
    return {
        tuple(s.labels[k] for k in labels): s.value
        for s in metrics[family]
        if s.name == family + suffix
    }


async def test_local_probe_is_node_exporter_shaped(client: TestClient) -> None:
    resp = await client.get("/probe", params={"target": "me", "module": "local"})
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = _families(await resp.text())
    cpu = {(s.labels["cpu"], s.labels["mode"]) for s in fams["node_cpu_seconds"]}
    assert ("0", "idle") in cpu
    assert all(s.timestamp is None for samples in fams.values() for s in samples)
    assert "fleetwatch_probes_total" not in await resp.text()  # own metrics never mixed in


async def test_default_module_is_the_targets_first(client: TestClient) -> None:
    resp = await client.get("/probe", params={"target": "me"})
    assert resp.status == 200


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "missing 'target'"),
        ({"target": "nope"}, "unknown target 'nope'"),
        ({"target": "me", "module": "snmp"}, "unknown module 'snmp'"),
        ({"target": "me", "module": "ssh"}, "not enabled for target 'me'"),
    ],
)
async def test_bad_requests_are_400(client: TestClient, params: dict, needle: str) -> None:
    resp = await client.get("/probe", params=params)
    assert resp.status == 400
    assert needle in await resp.text()


async def test_failing_host_is_503_with_one_line_and_counted(client: TestClient) -> None:
    resp = await client.get(
        "/probe",
        params={"target": "dead", "module": "ssh"},
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
    )
    body = await resp.text()
    assert resp.status == 503
    assert body.count("\n") == 1
    assert body.startswith("target dead: connection_refused:")
    errors = await _own(client, "fleetwatch_probe_errors", "_total", "module", "reason")
    assert errors[("ssh", "connection_refused")] == 1
    assert errors[("ssh", "timeout")] == 0  # pre-declared, so rate() works from the start
    outcomes = await _own(client, "fleetwatch_probes", "_total", "module", "outcome")
    assert outcomes[("ssh", "failure")] == 1


async def test_own_series_exist_before_the_first_probe(client: TestClient) -> None:
    # a dashboard's rate() over them needs two scrapes: the first must already carry them
    buckets = await _own(client, "fleetwatch_probe_duration_seconds", "_bucket", "module", "le")
    assert buckets[("local", "+Inf")] == 0
    assert buckets[("ssh", "0.1")] == 0
    outcomes = await _own(client, "fleetwatch_probes", "_total", "module", "outcome")
    assert set(outcomes) == {(m, o) for m in ("local", "ssh") for o in ("success", "failure")}


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, DEFAULT_TIMEOUT), ("10", 9.5), ("0.7", 0.5), ("abc", DEFAULT_TIMEOUT), ("-1", 10.0)],
)
def test_deadline_comes_from_the_scrape_timeout_header(header: str | None, expected: float) -> None:
    assert probe_timeout(header) == expected


async def test_collector_failures_are_counted_per_target(tmp_path) -> None:
    # "broken" reads this machine's /proc but a garbage meminfo: meminfo fails (counted);
    # "me" fails nothing, though some of its sources are absent here (NoData: not counted)
    import os

    proc = tmp_path / "proc"
    proc.mkdir()
    for name in os.listdir("/proc"):
        if name != "meminfo" and (not name.isdigit() or name == "1"):
            (proc / name).symlink_to(f"/proc/{name}")
    (proc / "meminfo").write_text("MemTotal: lots of kB\n")
    text = INVENTORY.format(port=_closed_port()) + (
        "      - {name: broken, address: localhost, modules: [local],"
        f" collectors: {{options: {{procfs: {proc}}}}}}}\n"
    )
    exporter = Exporter(inventory_from_text(text, "<test>"))
    async with TestClient(TestServer(exporter.app())) as client:
        for _ in range(2):
            assert (await client.get("/probe", params={"target": "broken"})).status == 200
            me = await client.get("/probe", params={"target": "me"})
            assert me.status == 200
        absent = [
            s.labels["collector"]
            for s in _families(await me.text())["node_scrape_collector_success"]
            if s.value == 0
        ]
        await client.get("/probe", params={"target": "nosuchhost"})  # 400: never a label
        counts = await _own(
            client, "fleetwatch_collector_errors", "_total", "module", "target", "collector"
        )
    assert absent, "this machine lacks some sources (RAID, hwmon...): NoData for them"
    assert counts == {("local", "broken", "meminfo"): 2.0}
