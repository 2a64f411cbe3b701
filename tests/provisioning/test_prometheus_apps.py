"""Scrape jobs of apps and node_exporter hosts, the dependency series, the inhibit rules;
checked by the real promtool and amtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetwatch.inventory import inventory_from_text
from fleetwatch.provisioning.alertmanager import build_alertmanager
from fleetwatch.provisioning.prometheus import write_prometheus
from fleetwatch.rules import down_alerts

ROOT = Path(__file__).resolve().parents[2]

FLEET = """
version: 1
stack: {exporter: "exporter.internal:9717"}
deployments:
  - name: prod
    provider: hetzner
    labels: {env: prod, environment: production}   # the environment, as no environment: key
    hosts:
      - {name: web-1, address: 10.0.0.1}
      - {name: db-1, address: 10.0.0.3, node_exporter: 9100, labels: {team: data}}
      - {name: old, address: 10.0.0.4, node_exporter: "10.0.0.4:9101", scrape_interval: 30s,
         maintenance: true}
    services:
      - {name: pg, module: postgres, address: "10.0.0.3:5432", depends_on: [db-1]}
    apps:
      - name: api
        url: https://api.internal:8443/internal/metrics
        labels: {team: core}
        depends_on: [pg]
        auth: {basic: {username: prom, password_file: /etc/fw/api.pw}}
        tls: {ca_file: /etc/fw/ca.pem, server_name: api, cert_file: /etc/fw/c.pem,
              key_file: /etc/fw/k.pem}
      - {name: worker, url: "http://10.0.0.5/metrics", scrape_interval: 1m,
         auth: {bearer_token_file: /etc/fw/tok}, depends_on: [api, pg]}
"""


#: the built-in packs' alerts marked ``down: true``
DOWN = down_alerts(ROOT / "rules", "http://grafana")


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    inv = inventory_from_text(FLEET, str(tmp_path / "fleet.yaml"), check_files=False)
    write_prometheus(inv, tmp_path)
    data: dict[str, Any] = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    return {j["job_name"]: j for j in data["scrape_configs"]}


def test_node_exporter_hosts_leave_the_ssh_job(config: dict[str, Any], tmp_path: Path) -> None:
    import json

    ssh = json.loads((tmp_path / "targets" / "ssh_15s.json").read_text())
    assert [t["targets"] for t in ssh] == [["web-1"]]
    assert ssh[0]["labels"]["environment"] == "production"
    assert not (tmp_path / "targets" / "node_15s.json").exists()
    node = config["node_15s"]
    assert "metrics_path" not in node and "params" not in node and "relabel_configs" not in node
    assert node["static_configs"] == [
        {
            "targets": ["10.0.0.3:9100"],
            "labels": {
                "instance": "db-1",
                "deployment": "prod",
                "provider": "hetzner",
                "environment": "production",
                "maintenance": "false",
                "env": "prod",
                "team": "data",
            },
        }
    ]
    old = config["node_30s"]["static_configs"][0]
    assert old["targets"] == ["10.0.0.4:9101"]
    assert old["labels"]["maintenance"] == "true" and old["labels"]["instance"] == "old"


def test_one_job_per_app_with_its_access(config: dict[str, Any]) -> None:
    api = config["app_api"]
    assert api["scheme"] == "https" and api["metrics_path"] == "/internal/metrics"
    assert api["basic_auth"] == {"username": "prom", "password_file": "/etc/fw/api.pw"}
    assert api["tls_config"] == {
        "ca_file": "/etc/fw/ca.pem",
        "cert_file": "/etc/fw/c.pem",
        "key_file": "/etc/fw/k.pem",
        "server_name": "api",
    }
    assert api["static_configs"] == [
        {
            "targets": ["api.internal:8443"],
            "labels": {
                "instance": "api",
                "deployment": "prod",
                "provider": "hetzner",
                "environment": "production",
                "maintenance": "false",
                "env": "prod",
                "team": "core",
            },
        }
    ]
    worker = config["app_worker"]
    assert worker["scheme"] == "http" and worker["scrape_interval"] == "1m"
    assert worker["authorization"] == {"type": "Bearer", "credentials_file": "/etc/fw/tok"}
    assert worker["static_configs"][0]["targets"] == ["10.0.0.5:80"]
    assert "basic_auth" not in worker and "tls_config" not in worker


def test_dependency_edges_are_recorded(tmp_path: Path) -> None:
    inv = inventory_from_text(FLEET, "<test>", check_files=False)
    write_prometheus(inv, tmp_path)
    rules = yaml.safe_load((tmp_path / "rules" / "inventory.yml").read_text())
    edges = [
        r["labels"]
        for r in rules["groups"][0]["rules"]
        if r["record"] == "edge:dependency:inventory"
    ]
    assert edges == [
        {"source": "api", "target": "pg"},
        {"source": "pg", "target": "db-1"},
        {"source": "worker", "target": "api"},
        {"source": "worker", "target": "pg"},
    ]
    nodes = [r["labels"] for r in rules["groups"][0]["rules"]
             if r["record"] == "instance:dependency_node:inventory"]  # fmt: skip
    assert [(n["instance"], n["title"], n["deployment"]) for n in nodes] == [
        (name, name, "prod") for name in ("api", "db-1", "pg", "worker")
    ]


def test_promtool_accepts_config_and_rules(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (scripts/install-system-deps.sh)")
    inv = inventory_from_text(FLEET, "<test>", check_files=False)
    write_prometheus(inv, tmp_path)
    for args in (["check", "config", "--syntax-only"], ["check", "rules"]):
        target = "prometheus.yml" if args[1] == "config" else "rules/inventory.yml"
        run = subprocess.run(
            [promtool, *args, str(tmp_path / target)], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_the_down_alerts_come_from_the_rules_marked_down() -> None:
    assert DOWN == ["HealthCheckFailing", "HostDown", "PostgresDown", "RedisDown"]


def test_down_alerts_follow_the_rules_and_alerting_yaml(tmp_path: Path) -> None:
    """A user's own `down: true` alert joins; alerting.yaml's list replaces them; none, no
    dependency rule (nothing could fire it)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "config.yaml").write_text("runbook_url_pattern: https://runbooks/{alertname}\n")
    (rules / "apps.yaml").write_text(
        "alerts:\n"
        "  - alert: AppUnreachable\n"
        "    metric: up\n"
        '    op: "=="\n'
        "    threshold: 0\n"
        "    severity: critical\n"
        "    down: true\n"
        "    summary: An app does not answer.\n"
        '    description: "{{ $labels.instance }} is down."\n'
        "  - alert: AppSlow\n"
        "    metric: up\n"
        '    op: "=="\n'
        "    threshold: 2\n"
        "    severity: warning\n"
        "    summary: Never.\n"
        '    description: "{{ $labels.instance }}."\n'
    )
    assert down_alerts(rules, "http://g") == ["AppUnreachable"]
    assert down_alerts(tmp_path / "none", "http://g") == []
    edges = [("api", "db")]
    base = (ROOT / "alerting.yaml").read_text()

    def source_matchers(text: str, down: list[str]) -> list[list[str]]:
        (tmp_path / "alerting.yaml").write_text(text)
        build_alertmanager(tmp_path / "alerting.yaml", tmp_path / "am", dependencies=edges,
                           down_alerts=down)  # fmt: skip
        doc = yaml.safe_load((tmp_path / "am" / "alertmanager.yml").read_text())
        return [r["source_matchers"] for r in doc["inhibit_rules"] if "target_matchers" in r
                and any("instance=" in m for m in r["source_matchers"])]  # fmt: skip

    assert source_matchers(base, ["AppUnreachable"]) == [
        ['alertname=~"AppUnreachable"', 'instance="db"']
    ]
    assert source_matchers(base, []) == []
    assert "\ninhibit:" not in base
    configured = base + "inhibit:\n  dependency_down_alerts: [Gone, Dead]\n"
    assert source_matchers(configured, ["AppUnreachable"]) == [
        ['alertname=~"Dead|Gone"', 'instance="db"']
    ]


def test_inhibit_rules_mute_only_the_dependents(tmp_path: Path) -> None:
    content = Path(__file__).resolve().parents[2] / "alerting.yaml"
    inv = inventory_from_text(FLEET, "<test>", check_files=False)
    build_alertmanager(content, tmp_path, dependencies=inv.dependencies(), down_alerts=DOWN)
    rules = yaml.safe_load((tmp_path / "alertmanager.yml").read_text())["inhibit_rules"]
    mine = [r for r in rules if any("instance=" in m for m in r["source_matchers"])]
    down = 'alertname=~"HealthCheckFailing|HostDown|PostgresDown|RedisDown"'
    assert mine == [
        {"source_matchers": [down, 'instance="api"'], "target_matchers": ['instance=~"worker"']},
        {"source_matchers": [down, 'instance="db-1"'], "target_matchers": ['instance=~"pg"']},
        {"source_matchers": [down, 'instance="pg"'], "target_matchers": ['instance=~"api|worker"']},
    ]
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.skip("amtool not installed")
    run = subprocess.run(
        [amtool, "check-config", str(tmp_path / "alertmanager.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def _post_alerts(url: str, alerts: list[dict[str, str]]) -> None:
    import json
    import urllib.request

    body = json.dumps([{"labels": a} for a in alerts]).encode()
    req = urllib.request.Request(
        f"{url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as resp:
        assert resp.status == 200


def _amtool_alerts(url: str, *flags: str) -> dict[str, str]:
    """instance → alertname of the alerts amtool lists with ``flags``."""
    import json

    run = subprocess.run(
        ["amtool", f"--alertmanager.url={url}", "alert", "query", *flags, "-o", "json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return {a["labels"]["instance"]: a["labels"]["alertname"] for a in json.loads(run.stdout)}


@pytest.mark.e2e
def test_real_alertmanager_inhibits_the_dependents_of_a_down_dependency(tmp_path: Path) -> None:
    from servers import AlertmanagerServer, require, wait_until

    require("prometheus-alertmanager", "amtool")
    inv = inventory_from_text(FLEET, "<test>", check_files=False)
    build_alertmanager(
        ROOT / "alerting.yaml", tmp_path, dependencies=inv.dependencies(), down_alerts=DOWN
    )
    with AlertmanagerServer(config_file=tmp_path / "alertmanager.yml") as am:
        common = {"deployment": "prod", "provider": "hetzner"}
        _post_alerts(
            am.url,
            [
                {"alertname": "PostgresDown", "severity": "critical", "instance": "pg", **common},
                {"alertname": "HostHighCpu", "severity": "warning", "instance": "pg", **common},
                {"alertname": "HealthCheckFailing", "severity": "critical", "instance": "api",
                 **common},
                {"alertname": "AppErrors", "severity": "warning", "instance": "worker", **common},
                {"alertname": "HostHighCpu", "severity": "warning", "instance": "web-1", **common},
            ],
        )  # fmt: skip
        # the dependency pg is down: api (and worker, through pg and api) are muted; pg's
        # own alerts, and web-1 that depends on nothing, still notify
        wait_until(
            lambda: set(_amtool_alerts(am.url, "--inhibited")) == {"api", "worker"},
            15,
            "api and worker inhibited while PostgresDown fires for pg",
            server=am,
        )
        active = _amtool_alerts(am.url, "--active")
        assert set(active) == {"pg", "web-1"}, active
