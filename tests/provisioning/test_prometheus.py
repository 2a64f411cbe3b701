"""prometheus.yml, file_sd targets and inventory rules, checked by the real promtool."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fleetwatch.inventory import inventory_from_text
from fleetwatch.provisioning.grafana import write_grafana_provisioning
from fleetwatch.provisioning.prometheus import write_prometheus

FLEET = """
version: 1
defaults: {scrape_interval: 30s}
stack: {exporter: "exporter.internal:9717", alertmanager_url: "http://am:9093"}
deployments:
  - name: prod-eu
    provider: hetzner
    environment: prod
    labels: {env: prod, team: core}
    resources: {cpu_cores: 64, memory: 256GiB, storage: 4TB}
    hosts:
      - {name: web-1, address: 10.0.0.1}
      - {name: web-2, address: 10.0.0.2, maintenance: true}
      - {name: db-1, address: 10.0.0.3, scrape_interval: 15s, labels: {team: data}}
  - name: staging
    provider: aws
    hosts:
      - {name: here, modules: [local]}
"""


@pytest.fixture
def inv():  # type: ignore[no-untyped-def]
    return inventory_from_text(FLEET, "<test>", check_files=False)


def test_one_job_per_module_and_interval(inv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_prometheus(inv, tmp_path)
    config = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert sorted(jobs) == ["fleetwatch", "local_30s", "ssh_15s", "ssh_30s"]
    ssh = jobs["ssh_30s"]
    assert ssh["metrics_path"] == "/probe"
    assert ssh["params"] == {"module": ["ssh"]}
    assert ssh["scrape_interval"] == "30s"
    assert ssh["relabel_configs"][-1] == {
        "target_label": "__address__",
        "replacement": "exporter.internal:9717",
    }
    assert jobs["ssh_15s"]["scrape_timeout"] == "10000ms"
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["am:9093"]


def test_targets_carry_deployment_provider_labels_and_maintenance(inv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_prometheus(inv, tmp_path)
    targets = json.loads((tmp_path / "targets" / "ssh_30s.json").read_text())
    by_name = {t["targets"][0]: t["labels"] for t in targets}
    assert by_name["web-1"] == {
        "deployment": "prod-eu",
        "provider": "hetzner",
        "environment": "prod",
        "maintenance": "false",
        "env": "prod",
        "team": "core",
    }
    assert by_name["web-2"]["maintenance"] == "true"  # marked, not dropped
    db = json.loads((tmp_path / "targets" / "ssh_15s.json").read_text())
    assert db[0]["labels"]["team"] == "data"  # host label wins


def test_inventory_rules(inv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_prometheus(inv, tmp_path)
    rules = yaml.safe_load((tmp_path / "rules" / "inventory.yml").read_text())["groups"][0]
    by_record: dict[str, list[dict]] = {}
    for r in rules["rules"]:
        by_record.setdefault(r["record"], []).append(r)
    assert by_record["deployment:allocated_memory_bytes:inventory"][0]["expr"] == (
        f"vector({256 * 2**30})"
    )
    assert by_record["deployment:allocated_storage_bytes:inventory"][0]["expr"] == (
        "vector(4000000000000)"
    )
    maint = {
        r["labels"]["instance"]: r["expr"] for r in by_record["instance:maintenance:inventory"]
    }
    assert maint == {
        "db-1": "vector(0)",
        "here": "vector(0)",
        "web-1": "vector(0)",
        "web-2": "vector(1)",
    }


def test_promtool_accepts_the_config(inv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (scripts/install-system-deps.sh)")
    write_prometheus(inv, tmp_path)
    run = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


def test_byte_identical_rebuild(inv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for d in ("a", "b"):
        write_prometheus(inv, tmp_path / d / "prometheus")
        write_grafana_provisioning(inv, tmp_path / d / "grafana", None, "/dash")
    cmp = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only


def test_datasources_have_fixed_uids(inv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_grafana_provisioning(inv, tmp_path, None, "/dash")
    data = yaml.safe_load((tmp_path / "datasources" / "fleetwatch.yaml").read_text())
    assert data["apiVersion"] == 1
    uids = {d["uid"]: d["type"] for d in data["datasources"]}
    assert uids == {
        "fleetwatch-prometheus": "prometheus",
        "fleetwatch-alertmanager": "alertmanager",
    }
    providers = yaml.safe_load((tmp_path / "dashboards" / "fleetwatch.yaml").read_text())
    assert providers["providers"][0]["options"] == {
        "path": "/dash",
        "foldersFromFilesStructure": True,
    }
