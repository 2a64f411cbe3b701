"""The scaled-out topology on real engines, from ``fleetwatch build``'s ``scale/`` output.

2 fleetwatch exporter replicas (local module, 8 targets) -> 2 shards x 2 replicas of Prometheus
in agent mode -> one VictoriaMetrics with dedup; vmalert evaluates rules once against it and
notifies both peers of a 2-peer Alertmanager cluster -> one notification at a capture webhook.
Every engine runs from the files the build wrote (cwd: the build folder).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from capture import CaptureServer
from e2e.scale_stack import ENGINES, Topology, peer_ports, run_topology, scale_inventory
from fleetwatch.build import build
from fleetwatch.inventory import load_inventory
from fleetwatch.inventory.assign import assignment
from servers import free_port, http_get, require, wait_until

pytestmark = pytest.mark.e2e

INTERVAL = 2  # seconds: scrape, dedup and evaluation interval
HOSTS = [f"h-{i:02d}" for i in range(8)]

DASHBOARD = "title: x\npanels:\n  - type: timeseries\n    title: L\n    unit: short\n    expr: up\n"

RULES = """\
groups:
  - name: scale-e2e
    rules:
      - alert: ScaleE2E
        expr: sum(up{job="local_2s"}) > 0
        labels: {severity: critical}
        annotations: {summary: Targets are up.}
"""

ALERTMANAGER_YML = """\
route:
  receiver: capture
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: capture
    webhook_configs: [{{url: "{url}/hook", send_resolved: false}}]
"""


def _inventory(exporters: list[int], vm: int, peers: list[int]) -> str:
    replicas = {f"ex-{i}": port for i, port in enumerate(exporters)}
    return scale_inventory(list(HOSTS), replicas, vm, peers, INTERVAL)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    require(*ENGINES)
    tmp = tmp_path_factory.mktemp("scale")
    ex_ports, vm_port, am_ports = [free_port(), free_port()], free_port(), peer_ports(2)
    fleet = tmp / "fleet.yaml"
    fleet.write_text(_inventory(ex_ports, vm_port, am_ports), encoding="utf-8")
    inventory = load_inventory(fleet)
    content = tmp / "content"
    (content / "dashboards").mkdir(parents=True)
    (content / "dashboards" / "x.yaml").write_text(DASHBOARD, encoding="utf-8")
    out = tmp / "build"
    build(inventory, content, out)
    (out / "prometheus" / "rules" / "e2e.yml").write_text(RULES, encoding="utf-8")
    with CaptureServer() as capture:
        (out / "alertmanager").mkdir(exist_ok=True)  # no alerting.yaml in this content
        (out / "alertmanager" / "alertmanager.yml").write_text(
            ALERTMANAGER_YML.format(url=capture.url), encoding="utf-8"
        )
        ports = {f"ex-{i}": p for i, p in enumerate(ex_ports)}
        with run_topology(inventory, fleet, out, tmp, ports) as topology:
            topology.capture = capture
            yield topology
    shutil.rmtree(tmp, ignore_errors=True)


def _by_instance(result: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["metric"]["instance"]: r for r in result}


def test_every_target_once_from_its_assigned_exporter(topology: Topology) -> None:
    owners = assignment(topology.inventory)
    assert set(owners.values()) == {"ex-0", "ex-1"}

    def complete() -> bool:
        return set(_by_instance(topology.query('up{job="local_2s"} == 1'))) == set(HOSTS)

    wait_until(complete, 60, "every target's up == 1 in VictoriaMetrics")
    series = topology.query('up{job="local_2s"}')
    assert sorted(r["metric"]["instance"] for r in series) == HOSTS  # once each, after dedup
    for r in series:
        labels = r["metric"]
        assert labels["exporter"] == owners[labels["instance"]]
        assert labels["shard"] == f"shard-{topology.shard_of(labels['exporter'])}"
        assert "replica" not in labels
    counts = topology.query('count by (instance) (node_load1{job="local_2s"})')
    assert {r["metric"]["instance"]: r["value"][1] for r in counts} == dict.fromkeys(HOSTS, "1")


def test_each_exporter_probes_only_its_own_targets(topology: Topology) -> None:
    owners = assignment(topology.inventory)
    for exporter_id, server in topology.exporters.items():
        foreign = next(t for t, e in owners.items() if e != exporter_id)
        status, body = http_get(f"{server.url}/probe?target={foreign}&module=local")
        assert status == 503 and b"not_assigned" in body
        status, metrics = http_get(f"{server.url}/metrics")
        errors = [
            line
            for line in metrics.decode().splitlines()
            if line.startswith("fleetwatch_probe_errors_total") and "not_assigned" in line
        ]
        assert errors and float(errors[0].rsplit(" ", 1)[1]) >= 1  # only this test's probe


def test_dedup_keeps_one_sample_per_interval(topology: Topology) -> None:
    wait_until(lambda: topology.query('up{job="local_2s"}') != [], 60, "samples")
    window = 20

    def full_window() -> bool:
        got = topology.query(f'count_over_time(up{{instance="{HOSTS[0]}"}}[{window}s])')
        return bool(got) and float(got[0]["value"][1]) >= window / INTERVAL - 2

    wait_until(full_window, 60, "a full window of samples")
    got = topology.query(f'count_over_time(up{{instance="{HOSTS[0]}"}}[{window}s])')
    # two replicas scrape every 2 s: ~20 samples without dedup, ~10 with it
    assert float(got[0]["value"][1]) <= window / INTERVAL + 2


def test_a_killed_scraper_replica_leaves_no_gap(topology: Topology) -> None:
    shard0 = [h for h, e in assignment(topology.inventory).items() if topology.shard_of(e) == 0]
    assert shard0
    topology.agents[0, 0].stop()
    killed = time.time()

    def later() -> bool:
        got = topology.query(f'timestamp(up{{instance="{shard0[0]}"}})')
        return bool(got) and float(got[0]["value"][1]) > killed + 6 * INTERVAL

    wait_until(later, 60, "samples well after the kill")
    for at in [killed + k * INTERVAL for k in range(1, 6)]:
        expr = f'count_over_time(up{{job="local_2s",shard="shard-0"}}[{2 * INTERVAL}s])'
        got = _by_instance(topology.query(expr, at))
        assert set(got) == set(shard0), at
        assert all(float(r["value"][1]) >= 1 for r in got.values())


def test_vmalert_fires_once_both_peers_one_notification(topology: Topology) -> None:
    capture = topology.capture
    assert capture is not None
    wait_until(topology.cluster_settled, 30, "the Alertmanager cluster to settle")

    def at_both() -> bool:
        for peer in topology.peers:
            status, body = http_get(f"{peer.url}/api/v2/alerts?filter=alertname%3DScaleE2E")
            if status != 200 or not json.loads(body):
                return False
        return True

    wait_until(at_both, 60, "ScaleE2E at both peers")
    wait_until(lambda: capture.received("/hook") != [], 30, "a notification")
    first = capture.received("/hook")[0].at
    # the second peer waits its position x peer-timeout (3 s) and finds it in the shared log
    wait_until(lambda: time.time() > first + 10, 15, "past the second peer's turn")
    hooks = capture.received("/hook")
    assert len(hooks) == 1, [h.body for h in hooks]
    assert [a["labels"]["alertname"] for a in hooks[0].body["alerts"]] == ["ScaleE2E"]
    alerts = topology.query('ALERTS{alertname="ScaleE2E"}')
    assert len(alerts) == 1  # evaluated once: one series of its state in the store


def test_a_shard_with_every_replica_down_pages_once(topology: Topology) -> None:
    """Both Prometheus agents of shard 0 down (one may be already): its targets' series stop,
    so no ``up == 0`` is left to fire on; ``ScraperShardDown`` for shard 0 does, and only it."""
    capture = topology.capture
    assert capture is not None
    before = len(capture.received("/hook"))
    for replica in (0, 1):
        topology.agents[0, replica].stop()
    killed = time.time()
    peer = topology.peers[0]

    # VictoriaMetrics shows samples 30 s late, then 30 s without any, then the rule's 1m wait
    def firing() -> bool:
        return any(
            a["status"]["state"] == "active" for a in topology.peer_alerts(peer, "ScraperShardDown")
        )

    wait_until(firing, 240, "ScraperShardDown at an Alertmanager peer", interval=1)
    print(f"\nboth agents of shard-0 killed -> ScraperShardDown {time.time() - killed:.0f} s")
    (alert,) = topology.peer_alerts(peer, "ScraperShardDown")
    assert alert["labels"]["shard"] == "shard-0"
    assert alert["labels"]["severity"] == "critical"
    wait_until(lambda: len(capture.received("/hook")) > before, 30, "its notification")
    settle = time.time() + 8  # past the second peer's turn (3 s)
    wait_until(lambda: time.time() > settle, 15, "the second peer's turn to pass")
    hooks = capture.received("/hook")[before:]
    assert len(hooks) == 1, [h.body for h in hooks]
    assert [a["labels"]["alertname"] for a in hooks[0].body["alerts"]] == ["ScraperShardDown"]
    # shard 1 kept writing: its rule stays quiet
    assert topology.query('up{shard="shard-1"}') != []
