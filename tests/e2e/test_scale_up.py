"""`fleetwatch up` with `scale:`: the whole scaled topology from one command, on free ports.

3 exporter replicas (local module, this machine under 6 names, plus HTTP checks of the stack's
own endpoints) -> 2 shards x 2 Prometheus agents -> VictoriaMetrics with dedup, vmalert, a
2-peer Alertmanager cluster and the inbox; `up --detach` prints the table from the store and
the `query` line, `down` stops every PID it recorded.
"""

from __future__ import annotations

import json
import shutil
import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from commands import fleetwatch
from fleetwatch.inventory import load_inventory
from fleetwatch.inventory.assign import assignment
from servers import free_port, http_get, port_open, require, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HOSTS = [f"node-{i:02d}" for i in range(6)]


_fw = fleetwatch


def _ports() -> dict[str, Any]:
    """Free ports: 3 exporters, the store, the inbox, 2 peers whose successor (gossip) is free."""
    taken: set[int] = set()

    def fresh(pair: bool = False) -> int:
        for _ in range(100):
            port = free_port()
            span = {port, port + 1} if pair else {port}
            if not span & taken and not (pair and port_open("127.0.0.1", port + 1)):
                taken.update(span)
                return port
        raise RuntimeError("no free port")

    return {
        "exporters": [fresh() for _ in range(3)],
        "vm": fresh(),
        "inbox": fresh(),
        "peers": [fresh(pair=True) for _ in range(2)],
    }


def _inventory(ports: dict[str, Any]) -> str:
    hosts = "".join(f"      - {{name: {h}, address: localhost}}\n" for h in HOSTS)
    checks = {
        "store-health": f"http://127.0.0.1:{ports['vm']}/health",
        "peer-0-ready": f"http://127.0.0.1:{ports['peers'][0]}/-/ready",
        "inbox-healthy": f"http://127.0.0.1:{ports['inbox']}/-/healthy",
    }
    services = "".join(
        f"      - {{name: {n}, module: http, address: '{u}'}}\n" for n, u in checks.items()
    )
    exporters = "".join(
        f"    - {{id: ex-{i}, address: '127.0.0.1:{p}'}}\n"
        for i, p in enumerate(ports["exporters"])
    )
    peers = ", ".join(f"'127.0.0.1:{p}'" for p in ports["peers"])
    return (
        "version: 1\n"
        f"stack: {{inbox: '127.0.0.1:{ports['inbox']}', "
        f"alertmanager_url: 'http://127.0.0.1:{ports['peers'][0]}'}}\n"
        "defaults: {scrape_interval: 5s, modules: [local]}\n"  # probe deadline 4.5 s
        f"deployments:\n  - name: dc1\n    provider: local\n    hosts:\n{hosts}"
        f"    services:\n{services}"
        f"scale:\n  exporters:\n{exporters}"
        "  scraper: {engine: prometheus-agent, shards: 2, replicas: 2}\n"
        f"  storage: {{kind: victoriametrics, url: 'http://127.0.0.1:{ports['vm']}'}}\n"
        "  rules: {evaluator: vmalert}\n"
        f"  alertmanager: {{peers: [{peers}]}}\n"
    )


def _pids(state: Path) -> dict[str, int]:
    data = json.loads((state / "stack.json").read_text())
    return {s["name"]: s["pid"] for s in data["services"]}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:  # a zombie (state Z) is gone
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require("prometheus", "victoria-metrics", "vmalert", "prometheus-alertmanager")
    work = tmp_path_factory.mktemp("scale-up")
    content = work / "content"
    for part in ("dashboards", "rules"):
        shutil.copytree(ROOT / part, content / part)
    shutil.copy(ROOT / "alerting.yaml", content / "alerting.yaml")
    ports = _ports()
    (work / "fleet.yaml").write_text(_inventory(ports), encoding="utf-8")
    state = work / "state"
    run = _fw("up", "--detach", "--inventory", "fleet.yaml", "-o", str(work / "build"),
              "--content", str(content), "--state-dir", str(state), cwd=work)  # fmt: skip
    pids = _pids(state) if (state / "stack.json").exists() else {}
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        yield {"run": run, "work": work, "state": state, "pids": pids, "ports": ports,
               "down": lambda: _fw("down", "--state-dir", str(state), cwd=work)}  # fmt: skip
    finally:
        down = _fw("down", "--state-dir", str(state), cwd=work)
        assert down.returncode == 0, down.stdout + down.stderr


def _table(out: str) -> dict[str, list[str]]:
    """TARGET -> [JOB, EXPORTER, SHARD, UP...] from the table `up` printed."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("TARGET "))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1 :]:
        if " up, " in line:
            break
        target, *rest = line.split()
        rows[target] = rest
    return rows


def test_every_target_up_at_its_assigned_exporter(scaled: dict[str, Any]) -> None:
    out = scaled["run"].stdout
    inventory = load_inventory(scaled["work"] / "fleet.yaml")
    owners = assignment(inventory)
    assert len(set(owners.values())) >= 2  # the replicas share the targets
    rows = _table(out)
    for target, exporter in owners.items():
        assert target in rows, out
        _job, shown, _shard, up = rows[target][:4]
        assert (shown, up) == (exporter, "up"), (target, rows[target])
    for i, port in enumerate(scaled["ports"]["exporters"]):
        assert rows[f"127.0.0.1:{port}"][:2] == ["fleetwatch", f"ex-{i}"]  # its own /metrics
    summary = next(line for line in out.splitlines() if " up, " in line)
    assert summary == f"{len(owners) + 3} up, 0 down", out
    names = set(scaled["pids"])
    assert {"victoria-metrics", "vmalert", "inbox", "alertmanager-0", "alertmanager-1"} <= names
    assert {f"exporter-ex-{i}" for i in range(3)} <= names
    assert {f"scraper-{s}-{r}" for s in range(2) for r in range(2)} <= names
    assert "Traceback" not in scaled["run"].stderr


def test_the_query_line_answers_each_target_once(scaled: dict[str, Any]) -> None:
    out = scaled["run"].stdout
    line = next(line for line in out.splitlines() if line.startswith("query  "))
    url = line.split()[1]
    assert url == f"http://127.0.0.1:{scaled['ports']['vm']}"
    owners = assignment(load_inventory(scaled["work"] / "fleet.yaml"))
    query = urllib.parse.urlencode({"query": "count by (instance) (up)"})
    status, body = http_get(f"{url}/api/v1/query?{query}")
    assert status == 200, body
    counts = {r["metric"]["instance"]: r["value"][1] for r in json.loads(body)["data"]["result"]}
    # two replicas per shard scrape each target: dedup leaves one series each
    assert {t: counts.get(t) for t in owners} == dict.fromkeys(owners, "1")


def test_the_peers_form_one_cluster(scaled: dict[str, Any]) -> None:
    def clustered() -> bool:
        for port in scaled["ports"]["peers"]:
            status, body = http_get(f"http://127.0.0.1:{port}/api/v2/status")
            if status != 200 or len(json.loads(body)["cluster"].get("peers") or []) != 2:
                return False
        return True

    wait_until(clustered, 60, "both Alertmanager peers to see each other")


def test_a_taken_port_is_named_and_nothing_starts(scaled: dict[str, Any]) -> None:
    work, state = scaled["work"], scaled["work"] / "state-taken"
    fleet = work / "fleet-taken.yaml"
    ports = _ports()
    fleet.write_text(_inventory(ports), encoding="utf-8")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["vm"]))
        holder.listen()
        run = _fw("up", "--detach", "--no-validate", "--inventory", str(fleet), "-o",
                  str(work / "build-taken"), "--content", str(work / "content"),
                  "--state-dir", str(state), cwd=work)  # fmt: skip
    assert run.returncode != 0
    assert f"127.0.0.1:{ports['vm']} (scale.storage.url) is taken" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not (state / "stack.json").exists() or _pids(state) == {}


def test_down_leaves_no_process(scaled: dict[str, Any]) -> None:
    """Last in the file (tests run in file order): it takes the topology down."""
    pids = scaled["pids"]
    assert pids and all(_alive(p) for p in pids.values())
    down = scaled["down"]()
    assert down.returncode == 0, down.stderr
    assert all(name in down.stdout for name in pids)
    wait_until(lambda: not any(_alive(p) for p in pids.values()), 30, "every PID gone")
    for port in [*scaled["ports"]["exporters"], scaled["ports"]["vm"], *scaled["ports"]["peers"]]:
        assert not port_open("127.0.0.1", port)
