"""Failure without a storm, at size, on real engines (issue 15 item 4).

3 fleetwatch exporter replicas, 300 targets, 2 shards x 2 Prometheus agents, VictoriaMetrics
with dedup, vmalert, a 2-peer Alertmanager cluster notifying a capture webhook; alerts and
inhibit rules as ``fleetwatch build`` writes them from a content folder (a HostDown pack,
alerting.yaml).  Checked: every target stored once with its assigned ``exporter`` label, each
exporter serving only its own; then, at once, one scraper replica and one exporter killed, and
the Alertmanager peer that would notify first killed while the alert is firing: no gap in the
other shard's series, one ExporterDown, its hosts' HostDown alerts inhibited, one notification.

The targets are the local module under 300 names, with a lean collector set, every 10 s: the
local sshd under 300 names means 300 SSH sessions (a sshd process and a perl loop each) probed
twice per interval by 2 scraper replicas, more than 2 shared cores carry next to the rest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator

import pytest

from capture import CaptureServer
from e2e.scale_stack import ENGINES, Topology, peer_ports, run_topology, scale_inventory
from fleetwatch.build import build
from fleetwatch.inventory import load_inventory
from fleetwatch.inventory.assign import assignment
from servers import free_port, http_get, require, wait_until

pytestmark = pytest.mark.e2e

INTERVAL = 10  # seconds: scrape, dedup and evaluation interval; ExporterDown waits 3 of them
HOST_DOWN_FOR = 50  # seconds: HostDown's own wait, longer than ExporterDown's (as 5m in the pack)
TARGETS = [f"t-{i:03d}" for i in range(300)]
JOB = f"local_{INTERVAL}s"
#: the collectors each probe runs: enough for host metrics, cheap enough for 300 targets
COLLECTORS = ("cpu", "loadavg", "meminfo", "stat", "time", "uname")

DASHBOARD = (  # the uid HostDown's dashboard_url links to
    "title: x\nuid: fw-server-detail\n"
    "panels:\n  - type: timeseries\n    title: L\n    unit: short\n    expr: up\n"
)
HOST_PACK = f"""\
alerts:
  - alert: HostDown
    metric: up
    op: "=="
    threshold: 0
    for: {HOST_DOWN_FOR}s
    down: true
    severity: critical
    summary: A host does not answer its probes.
    description: "{{{{ $labels.instance }}}} failed every probe of job {{{{ $labels.job }}}}."
"""
RULES_CONFIG = 'runbook_url_pattern: "https://runbooks.example.com/alerts/{alertname}"\n'
ALERTING = """\
version: 1
defaults: {{group_by: [alertname], group_wait: 5s, group_interval: 1m, repeat_interval: 4h}}
receivers:
  capture:
    webhook: {{url: "{url}/hook", send_resolved: false}}
routing: {{critical: capture, warning: capture, info: null}}
"""


def _inventory(exporters: dict[str, int], vm: int, peers: list[int]) -> str:
    from fleetwatch.exporters.host.collectors import all_collectors

    off = sorted(c.name for c in all_collectors() if c.default and c.name not in COLLECTORS)
    lean = f"  collectors: {{disable: [{', '.join(off)}]}}\n"
    return scale_inventory(list(TARGETS), exporters, vm, peers, INTERVAL, lean)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    require(*ENGINES)
    tmp = tmp_path_factory.mktemp("scalefail")
    ports = {f"ex-{i}": free_port() for i in range(3)}
    fleet = tmp / "fleet.yaml"
    fleet.write_text(_inventory(ports, free_port(), peer_ports(2)), encoding="utf-8")
    inventory = load_inventory(fleet)
    content = tmp / "content"
    for folder, name, text in [
        ("dashboards", "x.yaml", DASHBOARD),
        ("rules", "hosts.yaml", HOST_PACK),
        ("rules", "config.yaml", RULES_CONFIG),
    ]:
        (content / folder).mkdir(parents=True, exist_ok=True)
        (content / folder / name).write_text(text, encoding="utf-8")
    out = tmp / "build"
    with CaptureServer() as capture:
        (content / "alerting.yaml").write_text(ALERTING.format(url=capture.url), "utf-8")
        build(inventory, content, out)
        with run_topology(inventory, fleet, out, tmp, ports, warm_up=True) as topo:
            topo.capture = capture
            yield topo
    shutil.rmtree(tmp, ignore_errors=True)


def _metric(body: bytes, name: str, *needles: str) -> float:
    for line in body.decode().splitlines():
        if line.startswith(name) and all(n in line for n in needles):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {needles} in the exporter's /metrics")


def test_every_target_once_with_its_assigned_exporter(topology: Topology) -> None:
    owners = assignment(topology.inventory)
    assert sorted(owners) == TARGETS and set(owners.values()) == {"ex-0", "ex-1", "ex-2"}

    def complete() -> bool:
        return len(topology.query(f'up{{job="{JOB}"}} == 1')) == len(TARGETS)

    wait_until(complete, 120, "all 300 targets up == 1 in VictoriaMetrics", interval=1)
    counts = topology.query(f'count by (instance) (up{{job="{JOB}"}})')
    assert {r["metric"]["instance"]: r["value"][1] for r in counts} == dict.fromkeys(TARGETS, "1")
    for r in topology.query(f'up{{job="{JOB}"}}'):
        labels = r["metric"]
        assert labels["exporter"] == owners[labels["instance"]], labels
        assert labels["shard"] == f"shard-{topology.shard_of(labels['exporter'])}"
    per_exporter = topology.query(f'count by (exporter) (up{{job="{JOB}"}})')
    expected = {e: str(list(owners.values()).count(e)) for e in topology.exporters}
    assert {r["metric"]["exporter"]: r["value"][1] for r in per_exporter} == expected


def test_each_exporter_serves_only_its_own_targets(topology: Topology) -> None:
    owners = assignment(topology.inventory)
    for exporter_id, server in topology.exporters.items():
        status, before = http_get(f"{server.url}/metrics", timeout=10)
        assert status == 200
        # every scrape it got was for its own targets: none refused so far
        assert _metric(before, "fleetwatch_probe_errors_total", "not_assigned") == 0
        assert _metric(before, "fleetwatch_probes_total", 'outcome="success"') > 0
        foreign = next(t for t, e in sorted(owners.items()) if e != exporter_id)
        status, body = http_get(f"{server.url}/probe?target={foreign}&module=local", timeout=10)
        assert status == 503 and b"not_assigned" in body
        own = next(t for t, e in sorted(owners.items()) if e == exporter_id)
        status, body = http_get(f"{server.url}/probe?target={own}&module=local", timeout=10)
        assert status == 200 and b"node_load1" in body
        _, after = http_get(f"{server.url}/metrics", timeout=10)
        assert _metric(after, "fleetwatch_probe_errors_total", "not_assigned") == 1


def test_failures_without_a_storm(topology: Topology) -> None:
    """Kill a scraper replica of shard 0 and the exporter of shard 1 at once, then the
    Alertmanager peer first in line while ExporterDown is firing."""
    capture = topology.capture
    assert capture is not None
    owners = assignment(topology.inventory)
    victim = next(e for e in sorted(topology.exporters) if topology.shard_of(e) == 1)
    its_hosts = sorted(t for t, e in owners.items() if e == victim)
    shard0 = sorted(t for t, e in owners.items() if topology.shard_of(e) == 0)
    wait_until(topology.cluster_settled, 30, "the Alertmanager cluster to settle")
    first = topology.first_in_line()
    assert capture.received("/hook") == []  # all quiet before

    topology.agents[0, 0].stop()
    topology.exporters[victim].stop()
    killed = time.time()

    # -- the page: at both peers, then the peer that would send it first dies
    def at_both() -> bool:
        return all(topology.peer_alerts(p, "ExporterDown") for p in topology.peers)

    wait_until(at_both, 90, "ExporterDown at both peers", interval=0.2)
    fired = time.time()
    first.stop()
    survivor = next(p for p in topology.peers if p is not first)
    wait_until(lambda: capture.received("/hook") != [], 60, "the page from the survivor")
    paged = capture.received("/hook")[0].at

    # -- the other shard: its surviving replica kept every series going
    def later() -> bool:
        got = topology.query(f'timestamp(up{{instance="{shard0[0]}"}})')
        return bool(got) and float(got[0]["value"][1]) > killed + 6 * INTERVAL

    wait_until(later, 120, "samples well after the kill", interval=1)
    for at in [killed + k * INTERVAL for k in range(1, 6)]:
        expr = f'count_over_time(up{{job="{JOB}",shard="shard-0"}}[{2 * INTERVAL}s])'
        got = {r["metric"]["instance"]: float(r["value"][1]) for r in topology.query(expr, at)}
        assert set(got) == set(shard0), at
        assert min(got.values()) >= 1, at

    # -- the victim's hosts: HostDown fires for each, every one inhibited by ExporterDown
    def all_host_down() -> bool:
        return len(topology.peer_alerts(survivor, "HostDown")) == len(its_hosts)

    wait_until(all_host_down, 90, f"HostDown for the {len(its_hosts)} hosts of {victim}")
    print(  # the timeline, for docs/scale-out.md (a figure, not a check)
        f"\nkill -> ExporterDown at both peers {fired - killed:.0f} s, -> page {paged - killed:.0f}"
        f" s, -> {len(its_hosts)} HostDown at the survivor {time.time() - killed:.0f} s"
    )
    host_down = topology.peer_alerts(survivor, "HostDown")
    assert sorted(a["labels"]["instance"] for a in host_down) == its_hosts
    (page,) = topology.peer_alerts(survivor, "ExporterDown")
    assert page["labels"]["exporter"] == victim
    for alert in host_down:
        assert alert["labels"]["exporter"] == victim
        assert alert["status"]["state"] == "suppressed", alert["status"]
        assert alert["status"]["inhibitedBy"] == [page["fingerprint"]]
    status, body = http_get(f"{survivor.url}/api/v2/alerts?inhibited=false&silenced=false")
    assert status == 200
    assert [a["labels"]["alertname"] for a in json.loads(body)] == ["ExporterDown"]  # one alert
    # past HostDown's group_wait (5 s) and a peer's turn (3 s): nothing else was sent
    settle = time.time() + 12
    wait_until(lambda: time.time() > settle, 20, "HostDown's group_wait to pass")
    hooks = capture.received("/hook")
    assert len(hooks) == 1, [h.body for h in hooks]
    assert [a["labels"]["alertname"] for a in hooks[0].body["alerts"]] == ["ExporterDown"]
    assert hooks[0].body["alerts"][0]["labels"]["exporter"] == victim
