"""Apps and node_exporter hosts of the inventory, scraped by a real Prometheus with the config
``fleetwatch build`` writes: Prometheus' and Alertmanager's own /metrics, a real node_exporter
(a ``node_exporter:`` host), a prometheus_client program standing in for a user's app (basic
auth and bearer token variants); an unreachable app and one serving garbage are ``up 0`` with
the reason in /api/v1/targets.  Then the same inventory with an SSH host and a service builds
and validates with 0 errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from commands import fleetwatch
from servers import (
    AlertmanagerServer,
    DemoApp,
    NodeExporter,
    Prometheus,
    free_port,
    require,
    wait_until,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


_fw = fleetwatch


def _fleet(tmp_path: Path, prom_port: int, am: str, node: str, apps: dict[str, str]) -> str:
    return f"""version: 1
defaults: {{scrape_interval: 1s}}
stack:
  exporter: "127.0.0.1:{free_port()}"
  prometheus_url: "http://127.0.0.1:{prom_port}"
  alertmanager_url: "http://{am}"
deployments:
  - name: shop
    provider: loopback
    labels: {{env: test}}
    hosts:
      - {{name: box-1, address: 127.0.0.1, node_exporter: "{node}", labels: {{role: db}}}}
      - {{name: box-2, address: 127.0.0.1}}
    services:
      - {{name: cache, module: redis, address: "127.0.0.1:{free_port()}", depends_on: [box-1]}}
    apps:
      - {{name: prometheus, url: "http://127.0.0.1:{prom_port}/metrics"}}
      - {{name: alertmanager, url: "http://{am}/metrics", labels: {{team: ops}}}}
      - name: shop-api
        url: "http://{apps["basic"]}/metrics"
        depends_on: [cache]
        auth: {{basic: {{username: scraper, password_file: secrets/api.pw}}}}
      - name: shop-worker
        url: "http://{apps["bearer"]}/metrics"
        depends_on: [shop-api]
        auth: {{bearer_token_file: secrets/worker.token}}
      - {{name: gone, url: "http://{apps["unreachable"]}/metrics"}}
      - {{name: junk, url: "http://{apps["garbage"]}/metrics"}}
"""


def _targets(prom: Prometheus) -> dict[str, dict[str, Any]]:
    return {t["labels"]["instance"]: t for t in prom.targets()}


def test_apps_and_node_exporter_hosts_scraped_with_the_inventory_labels(tmp_path: Path) -> None:
    require("prometheus", "promtool", "prometheus-node-exporter", "prometheus-alertmanager")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "api.pw").write_text("s3cret-pw\n")
    (secrets / "worker.token").write_text("t0ken-abc")
    prom_port = free_port()
    with (
        NodeExporter() as node,
        AlertmanagerServer() as am,
        DemoApp("--user", "scraper", "--password-file", str(secrets / "api.pw"),
                name="demo-basic") as basic,
        DemoApp("--token-file", str(secrets / "worker.token"), name="demo-bearer") as bearer,
        DemoApp("--garbage", name="demo-garbage") as garbage,
    ):  # fmt: skip
        apps = {
            "basic": basic.address,
            "bearer": bearer.address,
            "garbage": garbage.address,
            "unreachable": f"127.0.0.1:{free_port()}",
        }
        (tmp_path / "fleet.yaml").write_text(
            _fleet(tmp_path, prom_port, am.address, node.address, apps)
        )
        build = tmp_path / "build"
        run = _fw("build", "--inventory", "fleet.yaml", "-o", str(build), "--content", str(ROOT),
                  cwd=tmp_path)  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        config = (build / "prometheus" / "prometheus.yml").read_text()
        assert "s3cret-pw" not in config and "t0ken-abc" not in config
        validate = _fw("validate", str(build), cwd=tmp_path)
        assert validate.returncode == 0, validate.stdout + validate.stderr

        scraped = {"box-1", "prometheus", "alertmanager", "shop-api", "shop-worker"}
        prom = Prometheus(config, port=prom_port, workdir=build / "prometheus")
        with prom:

            def settled() -> bool:
                targets = _targets(prom)
                return all(targets.get(n, {}).get("health") == "up" for n in scraped) and all(
                    targets.get(n, {}).get("health") == "down" for n in ("gone", "junk")
                )

            wait_until(settled, 45, "apps and the node_exporter host up, the bad ones down",
                       server=prom)  # fmt: skip
            targets = _targets(prom)
            for name in scraped:
                labels = targets[name]["labels"]
                assert labels["deployment"] == "shop" and labels["provider"] == "loopback"
                assert labels["env"] == "test" and labels["maintenance"] == "false"
            assert targets["box-1"]["labels"]["job"] == "node_1s"
            assert targets["box-1"]["labels"]["role"] == "db"
            assert targets["alertmanager"]["labels"]["team"] == "ops"
            assert targets["shop-api"]["labels"]["job"] == "app_shop-api"
            assert "connection refused" in targets["gone"]["lastError"]
            assert targets["junk"]["lastError"]  # the parser's complaint
            assert targets["junk"]["lastError"] != targets["gone"]["lastError"]

            up = {
                r["metric"]["instance"]: r["value"][1]
                for r in prom.query('up{job=~"app_.+|node_.+"}')
            }
            assert up == {**dict.fromkeys(scraped, "1"), "gone": "0", "junk": "0"}
            # the app's own series carry the inventory's labels; the node_exporter host's
            # series are the host dashboards' (selected by instance and deployment)
            demo = prom.wait_for('demo_queue_depth{instance="shop-worker", deployment="shop"}')
            assert demo[0]["value"][1] == "3"
            prom.wait_for('node_memory_MemTotal_bytes{instance="box-1", deployment="shop"}')
            prom.wait_for('node_uname_info{instance="box-1"}')
            # the dependency map's edges
            edges = prom.wait_for("edge:dependency:inventory")
            assert sorted((e["metric"]["source"], e["metric"]["target"]) for e in edges) == [
                ("cache", "box-1"),
                ("shop-api", "cache"),
                ("shop-worker", "shop-api"),
            ]
