"""End to end, issue 13's proof: an inventory mixing an SSH host, a host running its own
node_exporter, a service and an application (tests/fixtures/inventories/mixed-fleet.yaml)
builds, validates with 0 errors, and `fleetwatch up` prints every target up; Prometheus'
/api/v1/targets says the same, and the samples behind each `up` are the real ones (the SSH
host's and the node_exporter's node_uname_info, redis_up 1, the app's own series), each with
the deployment's environment label.  The node_exporter host is no probe target of the
exporter: not in targets/*.json, and /probe refuses it."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import pytest
import yaml

from commands import fleetwatch
from fixture_paths import FIXTURES
from servers import DemoApp, NodeExporter, Sshd, free_port, http_get, require, wait_until
from service_servers import RedisServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = FIXTURES / "inventories" / "mixed-fleet.yaml"
#: the status table's rows: JOB, INSTANCE, HEALTH (then the last error, if any)
_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(up|down|unknown)\b(.*)$")


@dataclass
class Stack:
    up: subprocess.CompletedProcess[str]
    prometheus: str
    exporter: str
    build: Path
    work: Path


_fleetwatch = fleetwatch


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    status, body = http_get(f"{prom}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", 10)
    data = json.loads(body)
    assert status == 200 and data["status"] == "success", data
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def _rules(prom: str) -> list[dict[str, Any]]:
    status, body = http_get(f"{prom}/api/v1/rules", 10)
    assert status == 200
    groups: list[dict[str, Any]] = json.loads(body)["data"]["groups"]
    return groups


def _targets(prom: str) -> dict[tuple[str, str], str]:
    """(job, instance) -> health of Prometheus' active targets."""
    status, body = http_get(f"{prom}/api/v1/targets?state=active", 10)
    assert status == 200
    active = json.loads(body)["data"]["activeTargets"]
    return {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in active}


@pytest.fixture(scope="module")
def stack(sshd: Sshd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require("prometheus", "promtool", "prometheus-alertmanager", "amtool",
            "prometheus-node-exporter", "redis-server", "redis-cli")  # fmt: skip
    work = tmp_path_factory.mktemp("mixed")
    with NodeExporter() as node, RedisServer() as redis, DemoApp() as app:
        ports = {
            "exporter_port": free_port(),
            "prometheus_port": free_port(),
            "alertmanager_port": free_port(),
            "inbox_port": free_port(),
        }
        text = Template(INVENTORY.read_text()).substitute(
            ssh_user=sshd.user,
            ssh_port=sshd.port,
            ssh_key=sshd.client_key,
            known_hosts=sshd.known_hosts,
            node_exporter_port=node.port,
            redis_port=redis.port,
            app_port=app.port,
            **ports,
        )
        (work / "fleet.yaml").write_text(text)
        build, state = work / "build", work / "state"
        run = _fleetwatch(
            "up", "--detach", "--inventory", "fleet.yaml", "-o", str(build),
            "--content", str(ROOT), "--state-dir", str(state), cwd=work,
        )  # fmt: skip
        try:
            assert run.returncode == 0, run.stdout + run.stderr
            yield Stack(
                up=run,
                prometheus=f"http://127.0.0.1:{ports['prometheus_port']}",
                exporter=f"http://127.0.0.1:{ports['exporter_port']}",
                build=build,
                work=work,
            )
        finally:
            down = _fleetwatch("down", "--state-dir", str(state), cwd=work)
            assert down.returncode == 0, down.stdout + down.stderr


def _expected(stack: Stack) -> set[tuple[str, str]]:
    return {
        ("fleetwatch", stack.exporter.removeprefix("http://")),
        ("ssh_5s", "web-0"),
        ("node_5s", "db-1"),
        ("redis_5s", "cache"),
        ("app_shop-api", "shop-api"),
    }


def test_up_validates_and_prints_every_target_up(stack: Stack) -> None:
    out = stack.up.stdout
    print(out)  # the status table, for whoever runs this with -s
    assert re.search(r"^validated \S+: \d+ findings.*, none an error$", out, re.M), out
    rows = {}
    for line in out.splitlines():
        match = _ROW.match(line)
        if match:
            rows[(match.group(1), match.group(2))] = (match.group(3), match.group(4).strip())
    assert set(rows) == _expected(stack), out
    assert all(health == "up" for health, _ in rows.values()), out
    assert f"\n{len(rows)} up, 0 down" in out, out


def test_validate_finds_no_error(stack: Stack) -> None:
    run = _fleetwatch("validate", str(stack.build), cwd=stack.work)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^0 errors, ", run.stdout + run.stderr, re.M), run.stdout + run.stderr
    # depends_on: the rules' down alerts of each dependency mute its dependents
    config = yaml.safe_load((stack.build / "alertmanager" / "alertmanager.yml").read_text())
    down = 'alertname=~"HealthCheckFailing|HostDown|PostgresDown|RedisDown"'
    mine = [r for r in config["inhibit_rules"] if down in r["source_matchers"]]
    assert mine == [
        {
            "source_matchers": [down, 'instance="cache"'],
            "target_matchers": ['instance=~"shop-api"'],
        },
        {"source_matchers": [down, 'instance="db-1"'], "target_matchers": ['instance=~"cache"']},
    ]


def test_prometheus_agrees_and_the_samples_are_real(stack: Stack) -> None:
    prom = stack.prometheus
    assert set(_targets(prom)) == _expected(stack)
    wait_until(lambda: set(_targets(prom).values()) == {"up"}, 60, "every target up in Prometheus")
    # up 1 alone would not tell a service apart from the exporter answering "redis_up 0"
    for expr in (
        'node_uname_info{job="ssh_5s", instance="web-0"}',
        'node_uname_info{job="node_5s", instance="db-1"}',
        'redis_up{instance="cache"} == 1',
        'demo_queue_depth{instance="shop-api"}',
    ):
        wait_until(lambda e=expr: bool(_query(prom, e)), 60, expr)  # type: ignore[misc]
    ups = _query(prom, 'up{job!="fleetwatch"}')
    assert {u["metric"]["instance"] for u in ups} == {"web-0", "db-1", "cache", "shop-api"}
    for u in ups:
        labels = u["metric"]
        assert (labels["environment"], labels["deployment"], labels["team"]) == (
            "prod",
            "shop",
            "shop",
        ), labels
    # the health grid's dependency map colours the node_exporter host by its node job's up
    colour = (
        'max by (instance) (2 * up{job!="fleetwatch", instance="db-1"})'
        " * on (instance) group_left(title) instance:dependency_node:inventory"
    )
    (node,) = _query(prom, colour)
    assert node["metric"]["title"] == "db-1" and node["value"][1] == "2"
    # and HostDown, on up{job!="fleetwatch"}, watches it as any other host
    hostdown = [r for g in _rules(prom) for r in g["rules"] if r.get("name") == "HostDown"]
    watched = hostdown[0]["query"].removesuffix(" == 0")  # the value HostDown compares
    assert watched != hostdown[0]["query"], hostdown
    assert {r["metric"]["instance"] for r in _query(prom, watched)} >= {"db-1", "web-0"}
    # servers by environment (the fleet overview's pie): both hosts, whatever their transport
    (pie,) = _query(prom, "count by (environment) (instance:maintenance:inventory)")
    assert pie["metric"] == {"environment": "prod"} and pie["value"][1] == "2"


def test_the_node_exporter_host_is_no_probe_target(stack: Stack) -> None:
    targets = stack.build / "prometheus" / "targets"
    listed = {t for f in targets.glob("*.json") for e in json.loads(f.read_text())
              for t in e["targets"]}  # fmt: skip
    assert listed == {"web-0", "cache"}
    status, body = http_get(f"{stack.exporter}/probe?target=db-1&module=ssh", 10)
    assert status == 400 and b"unknown target 'db-1'" in body
    status, _ = http_get(f"{stack.exporter}/probe?target=web-0&module=ssh", 30)
    assert status == 200
