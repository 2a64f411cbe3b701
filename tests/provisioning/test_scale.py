"""``build/scale/``: what each engine of a scaled-out topology gets."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.inventory.scale_fixtures import scale_yaml

from fleetwatch import layout
from fleetwatch.build import build
from fleetwatch.inventory import Inventory, inventory_from_text
from fleetwatch.inventory.assign import assignment

ROOT = Path(__file__).resolve().parents[2]


def _tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _build(inv: Inventory, out: Path) -> dict[str, bytes]:
    build(inv, ROOT, out)
    return _tree(out)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Inventory, Path]:
    inv = inventory_from_text(scale_yaml(hosts=30, exporters=3, shards=2, replicas=2), "f.yaml")
    out = tmp_path_factory.mktemp("scaled") / "build"
    build(inv, ROOT, out)
    return inv, out


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_without_scale_nothing_changes(tmp_path: Path) -> None:
    """The same inventory with and without scale: builds equal outside scale/ and Grafana's
    datasources, and none has a scale/ folder without it."""
    text = scale_yaml(hosts=5, exporters=2)
    plain_text = text[: text.index("scale:\n")]
    plain = _build(inventory_from_text(plain_text, "f.yaml"), tmp_path / "plain")
    scaled = _build(inventory_from_text(text, "f.yaml"), tmp_path / "scaled")
    assert not any(name.startswith(layout.SCALE + "/") for name in plain)
    datasources = "grafana/provisioning/datasources/fleetwatch.yaml"
    assert datasources in plain
    differ = sorted(n for n in set(plain) | set(scaled) if plain.get(n) != scaled.get(n))
    prometheus = "prometheus/prometheus.yml"  # its alert senders list every peer
    alertmanager = "alertmanager/alertmanager.yml"  # + ExporterDown's inhibit rule
    assert [n for n in differ if not n.startswith("scale/")] == [
        alertmanager,
        datasources,
        prometheus,
    ]
    a, b = yaml.safe_load(plain[prometheus]), yaml.safe_load(scaled[prometheus])
    assert a.pop("alerting") != b.pop("alerting") and a == b
    a, b = yaml.safe_load(plain[alertmanager]), yaml.safe_load(scaled[alertmanager])
    assert b["inhibit_rules"][:-1] == a["inhibit_rules"]
    assert b["inhibit_rules"][-1]["source_matchers"] == ['alertname="ExporterDown"']
    a.pop("inhibit_rules"), b.pop("inhibit_rules")
    assert a == b
    assert _build(inventory_from_text(plain_text, "f.yaml"), tmp_path / "again") == plain


def test_every_target_once_in_its_exporters_shard(scaled: tuple[Inventory, Path]) -> None:
    inv, out = scaled
    scale = inv.scale
    assert scale is not None
    owners = assignment(inv)
    seen: list[str] = []
    for shard in range(2):
        for sd in sorted((layout.shard_dir(out, shard) / layout.TARGETS_DIR).glob("*.json")):
            for entry in json.loads(sd.read_text()):
                name = entry["labels"]["__param_target"]
                seen.append(name)
                assert entry["labels"]["instance"] == name
                assert entry["labels"]["exporter"] == owners[name]
                assert entry["targets"] == [scale.exporter(owners[name]).address]
                assert scale.shard_of(owners[name]) == shard
    assert sorted(seen) == sorted(inv.targets())
    doc = json.loads((out / "scale" / layout.SCALE_ASSIGNMENT).read_text())
    assert {t: v["exporter"] for t, v in doc["targets"].items()} == owners
    assert sum(e["targets"] for e in doc["exporters"].values()) == 30


def test_replicas_identical_but_for_their_replica_label(scaled: tuple[Inventory, Path]) -> None:
    _, out = scaled
    for shard in range(2):
        a = _yaml(layout.replica_dir(out, shard, 0) / "prometheus.yml")
        b = _yaml(layout.replica_dir(out, shard, 1) / "prometheus.yml")
        assert a["global"]["external_labels"] == {
            "shard": f"shard-{shard}",
            "replica": f"{shard}-a",
        }
        assert b["global"]["external_labels"]["replica"] == f"{shard}-b"
        b["global"]["external_labels"]["replica"] = f"{shard}-a"
        assert a == b
        assert "rule_files" not in a and "alerting" not in a  # agent mode: rules run elsewhere
        assert a["remote_write"] == [
            {
                "url": "http://127.0.0.1:8428/api/v1/write",
                "write_relabel_configs": [{"action": "labeldrop", "regex": "replica"}],
            }
        ]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_agent_configs_pass_promtool(scaled: tuple[Inventory, Path]) -> None:
    _, out = scaled
    for config in sorted((out / "scale").glob("shard-*/replica-*/prometheus.yml")):
        run = subprocess.run(
            ["promtool", "check", "config", "--agent", str(config)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr


def _args(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_rules_once_against_the_store_and_every_peer_notified(
    scaled: tuple[Inventory, Path],
) -> None:
    _, out = scaled
    args = _args(out / "scale" / "rules" / "vmalert.args")
    assert [a for a in args if a.startswith("-rule=")] == [
        "-rule=prometheus/rules/*.yml",
        "-rule=scale/rules/exporters.yml",
    ]
    assert "-datasource.url=http://127.0.0.1:8428" in args
    assert [a for a in args if a.startswith("-notifier.url=")] == [
        "-notifier.url=http://127.0.0.1:19093",
        "-notifier.url=http://127.0.0.1:19095",
    ]
    assert not list((out / "scale").glob("shard-*/**/rules"))  # not one copy per shard
    assert (out / "prometheus" / "rules" / "inventory.yml").is_file()
    peers = [_args(out / "scale" / "alertmanager" / f"peer-{i}.args") for i in range(2)]
    assert "--cluster.listen-address=127.0.0.1:19094" in peers[0]
    assert "--cluster.peer=127.0.0.1:19096" in peers[0]
    assert "--cluster.peer=127.0.0.1:19094" in peers[1]
    assert _args(out / "scale" / "storage" / "victoria-metrics.args") == [
        "-httpListenAddr=127.0.0.1:8428",
        "-dedup.minScrapeInterval=15s",
    ]
    ds = _yaml(out / "grafana/provisioning/datasources/fleetwatch.yaml")["datasources"]
    assert ds[0]["url"] == "http://127.0.0.1:8428"
    assert ds[1]["url"] == "http://127.0.0.1:19093"


def _scale_only(tmp_path: Path, **kwargs: Any) -> Path:
    from fleetwatch.provisioning.scale import write_scale

    inv = inventory_from_text(scale_yaml(hosts=6, exporters=2, **kwargs), "f.yaml")
    write_scale(inv, tmp_path / "scale")
    return tmp_path / "scale"


def test_mimir_gets_cluster_and_replica_labels_and_its_ha_tracker(tmp_path: Path) -> None:
    out = _scale_only(
        tmp_path,
        storage="kind: mimir\n    url: http://mimir:8080",
        extra="",
    )
    config = _yaml(out / "shard-1" / "replica-1" / "prometheus.yml")
    assert config["global"]["external_labels"] == {"cluster": "shard-1", "__replica__": "1-b"}
    assert config["remote_write"] == [{"url": "http://mimir:8080/api/v1/push"}]  # nothing dropped
    ha = _yaml(out / "storage" / "mimir-ha.yaml")
    assert ha["distributor"]["ha_tracker"]["enable_ha_tracker"] is True
    assert ha["limits"] == {
        "accept_ha_samples": True,
        "ha_cluster_label": "cluster",
        "ha_replica_label": "__replica__",
    }


def test_thanos_replica_label_and_query_dedup(tmp_path: Path) -> None:
    out = _scale_only(
        tmp_path,
        storage="kind: thanos-receive\n    urls: {write: 'http://recv:19291/api/v1/receive',"
        " query: 'http://query:9090'}",
    )
    config = _yaml(out / "shard-0" / "replica-1" / "prometheus.yml")
    assert config["global"]["external_labels"] == {"shard": "shard-0", "replica": "0-b"}
    assert "write_relabel_configs" not in config["remote_write"][0]
    assert _args(out / "storage" / "thanos-query.args") == ["--query.replica-label=replica"]
    assert "--remote-write.address=recv:19291" in _args(out / "storage" / "thanos-receive.args")


def test_vmagent_flags_and_scrape_config(tmp_path: Path) -> None:
    out = _scale_only(tmp_path, engine="vmagent")
    args = _args(out / "shard-0" / "replica-1" / "vmagent.args")
    assert args == [
        "-promscrape.config=scale/shard-0/replica-1/scrape.yml",
        "-remoteWrite.url=http://127.0.0.1:8428/api/v1/write",
        "-remoteWrite.label=shard=shard-0",  # identical series for VictoriaMetrics' dedup
    ]
    scrape = _yaml(out / "shard-0" / "replica-1" / "scrape.yml")
    assert "remote_write" not in scrape
    assert scrape == _yaml(out / "shard-0" / "replica-0" / "scrape.yml")
    assert not (out / "shard-0" / "replica-0" / "prometheus.yml").exists()


@pytest.mark.skipif(shutil.which("vmagent") is None, reason="vmagent not installed")
def test_vmagent_accepts_its_flags_and_config(tmp_path: Path) -> None:
    out = _scale_only(tmp_path, engine="vmagent")
    for replica in range(2):
        args = _args(out / "shard-1" / f"replica-{replica}" / "vmagent.args")
        run = subprocess.run(
            ["vmagent", "-dryRun", "-promscrape.config.strictParse", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        assert "all the configs are ok" in run.stdout + run.stderr


@pytest.mark.skipif(shutil.which("vmalert") is None, reason="vmalert not installed")
def test_vmalert_accepts_the_built_rules(scaled: tuple[Inventory, Path]) -> None:
    """The same rule files as the single-Prometheus build and ExporterDown, read by vmalert
    (MetricsQL)."""
    _, out = scaled
    rules = [a for a in _args(out / "scale" / "rules" / "vmalert.args") if a.startswith("-rule=")]
    run = subprocess.run(
        ["vmalert", "-dryRun", *rules], cwd=out, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    bad = out / "prometheus" / "rules" / "zz-broken.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n")
    try:
        broken = subprocess.run(
            ["vmalert", "-dryRun", *rules], cwd=out, capture_output=True, text=True, timeout=60
        )
    finally:
        bad.unlink()
    assert broken.returncode != 0  # the check can fail


def test_a_prometheus_sender_lists_every_peer(scaled: tuple[Inventory, Path]) -> None:
    _, out = scaled
    config = _yaml(out / "prometheus" / "prometheus.yml")
    assert config["alerting"]["alertmanagers"] == [
        {"static_configs": [{"targets": ["127.0.0.1:19093", "127.0.0.1:19095"]}]}
    ]


def test_apps_and_node_exporter_hosts_scraped_once_by_one_shard(tmp_path: Path) -> None:
    """What Prometheus scrapes itself has no exporter: each app and node_exporter host is in
    exactly one shard's config (both replicas), with the single-Prometheus build's job."""
    direct = (
        "    apps:\n"
        + "".join(f"      - {{name: app-{i}, url: 'http://127.0.0.1:{9100 + i}/metrics'}}\n"
                  for i in range(8))
        + "  - name: dc2\n    provider: local\n    hosts:\n"
        + "".join(f"      - {{name: node-{i}, address: 127.0.0.1, node_exporter: {9200 + i}}}\n"
                  for i in range(8))
    )  # fmt: skip
    text = scale_yaml(hosts=4, exporters=2, shards=2, replicas=2)
    text = text.replace("scale:\n", direct + "scale:\n", 1)
    inv = inventory_from_text(text, "f.yaml")
    out = tmp_path / "build"
    build(inv, ROOT, out)
    single = {
        j["job_name"]: j for j in _yaml(out / "prometheus" / "prometheus.yml")["scrape_configs"]
    }
    seen: dict[str, int] = {}
    where: dict[str, int] = {}
    for shard in range(2):
        a = _yaml(layout.replica_dir(out, shard, 0) / "prometheus.yml")["scrape_configs"]
        b = _yaml(layout.replica_dir(out, shard, 1) / "prometheus.yml")["scrape_configs"]
        assert a == b
        for job in a:
            if not job["job_name"].startswith(("app_", "node_")):
                continue
            want = single[job["job_name"]]
            assert {k: v for k, v in job.items() if k != "static_configs"} == {
                k: v for k, v in want.items() if k != "static_configs"
            }
            for sc in job["static_configs"]:
                assert sc in want["static_configs"]
                name = sc["labels"]["instance"]
                seen[name] = seen.get(name, 0) + 1
                where[name] = shard
    names = {f"app-{i}" for i in range(8)} | {f"node-{i}" for i in range(8)}
    assert seen == dict.fromkeys(names, 1)
    assert set(where.values()) == {0, 1}  # spread over the shards, not all on one
