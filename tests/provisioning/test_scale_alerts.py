"""The scale-out's failure alerts: ``ExporterDown`` and ``ScraperShardDown`` (run by promtool),
and the inhibit rule."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.inventory.scale_fixtures import scale_yaml

from fleetwatch.build import build
from fleetwatch.inventory import inventory_from_text
from fleetwatch.provisioning.scale import alerts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inv = inventory_from_text(scale_yaml(hosts=6, exporters=3), "f.yaml")
    out = tmp_path_factory.mktemp("scaled") / "build"
    build(inv, ROOT, out)
    return out


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_rule_file_waits_three_scrapes_and_pages(built: Path) -> None:
    doc = _yaml(built / alerts.RULE_FILE)
    rule, *shards = doc["groups"][0]["rules"]
    assert [r["alert"] for r in shards] == ["ScraperShardDown"] * 2  # 2 shards, 3 exporters
    assert rule["alert"] == "ExporterDown"
    assert rule["for"] == "45s"  # 3 x the default 15 s interval: well before HostDown's 5m
    assert rule["labels"] == {"severity": "critical"}
    # the repo's rules/config.yaml pattern, as for every pack alert
    assert rule["annotations"]["runbook_url"] == "https://runbooks.example.com/alerts/ExporterDown"


def test_inhibit_rule_mutes_down_alerts_of_the_same_exporter(built: Path) -> None:
    rules = _yaml(built / "alertmanager" / "alertmanager.yml")["inhibit_rules"]
    assert rules[-1] == {
        "source_matchers": ['alertname="ExporterDown"'],
        "target_matchers": [
            'alertname=~"HealthCheckFailing|HostDown|PostgresDown|RedisDown"',
            'exporter!=""',
        ],
        "equal": ["exporter"],
    }


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")
def test_alertmanager_accepts_it(built: Path) -> None:
    run = subprocess.run(
        ["amtool", "check-config", str(built / "alertmanager" / "alertmanager.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def _up(job: str, exporter: str, instance: str, values: str) -> dict[str, str]:
    return {
        "series": f'up{{job="{job}", exporter="{exporter}", instance="{instance}"}}',
        "values": values,
    }


def _fires(exporter: str) -> dict[str, Any]:
    rule = alerts.exporter_down_rule("15s", "https://r/{alertname}")
    annotations = dict(rule["annotations"])
    annotations["description"] = annotations["description"].replace(
        "{{ $labels.exporter }}", exporter
    )
    annotations["runbook_url"] = "https://runbooks.example.com/alerts/ExporterDown"
    return {
        "exp_labels": {"severity": "critical", "exporter": exporter},
        "exp_annotations": annotations,
    }


# 15 s steps; minute 0-2 all up, then: ex-0's own /metrics fails (and so its probes);
# ex-1 answers but both its targets fail; ex-2's one target fails (the host, not ex-2)
UP, DOWN_AFTER_2M = "1x8", "1x8 0x20"
SERIES = [
    _up("fleetwatch", "ex-0", "127.0.0.1:19700", DOWN_AFTER_2M),
    _up("local_15s", "ex-0", "host-a", DOWN_AFTER_2M),
    _up("local_15s", "ex-0", "host-b", DOWN_AFTER_2M),
    _up("fleetwatch", "ex-1", "127.0.0.1:19701", UP + " 1x20"),
    _up("local_15s", "ex-1", "host-c", DOWN_AFTER_2M),
    _up("local_15s", "ex-1", "host-d", DOWN_AFTER_2M),
    _up("fleetwatch", "ex-2", "127.0.0.1:19702", UP + " 1x20"),
    _up("local_15s", "ex-2", "host-e", DOWN_AFTER_2M),
    _up("local_15s", "ex-3", "host-f", UP + " 1x20"),  # someone's probes still succeed
]


def _test_file(series: list[dict[str, str]], cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rule_files": ["rules/exporters.yml"],
        "evaluation_interval": "15s",
        "tests": [{"interval": "15s", "input_series": series, "alert_rule_test": cases}],
    }


def _promtool(built: Path, doc: dict[str, Any], name: str) -> subprocess.CompletedProcess[str]:
    path = built / "scale" / name
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return subprocess.run(
        ["promtool", "test", "rules", name],
        cwd=built / "scale", capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_exporter_down_from_self_scrape_or_all_its_probes(built: Path) -> None:
    fired = [_fires("ex-0"), _fires("ex-1")]
    cases = [
        {"eval_time": "2m", "alertname": "ExporterDown", "exp_alerts": []},
        # 2m15s first 0, pending through 45 s: fires at 3m, not before
        {"eval_time": "2m45s", "alertname": "ExporterDown", "exp_alerts": []},
        {"eval_time": "3m", "alertname": "ExporterDown", "exp_alerts": fired},
    ]
    run = _promtool(built, _test_file(SERIES, cases), "ok.test.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    # the check can fail: ex-2 (one target down) is not an exporter failure
    wrong = [{**cases[2], "exp_alerts": [_fires("ex-0"), _fires("ex-1"), _fires("ex-2")]}]
    run = _promtool(built, _test_file(SERIES, wrong), "wrong.test.yml")
    assert run.returncode != 0 and "ExporterDown" in run.stdout + run.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_whole_fleet_failing_is_not_blamed_on_its_exporters(built: Path) -> None:
    series = [s for s in SERIES if "fleetwatch" not in s["series"]]
    series = [{**s, "values": DOWN_AFTER_2M} for s in series]
    cases = [{"eval_time": "5m", "alertname": "ExporterDown", "exp_alerts": []}]
    run = _promtool(built, _test_file(series, cases), "fleet.test.yml")
    assert run.returncode == 0, run.stdout + run.stderr


def _shard_rules(text: str, out: Path) -> list[dict[str, Any]]:
    build(inventory_from_text(text, "f.yaml"), ROOT, out)
    rules = _yaml(out / alerts.RULE_FILE)["groups"][0]["rules"]
    return [r for r in rules if r["alert"] == "ScraperShardDown"]


def test_one_shard_rule_per_shard(tmp_path: Path) -> None:
    rules = _shard_rules(scale_yaml(hosts=6, exporters=3, shards=3), tmp_path / "a")
    assert [r["expr"] for r in rules] == [
        f'absent_over_time(up{{shard="shard-{i}"}}[45s])' for i in range(3)
    ]
    assert {r["for"] for r in rules} == {"60s"}  # a fresh store's 30 s of hidden samples
    assert rules[0]["labels"] == {"severity": "critical"}
    assert rules[0]["annotations"]["runbook_url"].endswith("/ScraperShardDown")
    # at a 1m interval, 3 missed scrapes are the wait
    slow = _shard_rules(
        scale_yaml(exporters=2).replace("defaults:\n", "defaults:\n  scrape_interval: 1m\n"),
        tmp_path / "b",
    )
    assert [(r["expr"][-7:-1], r["for"]) for r in slow] == [("[180s]", "180s")] * 2


def test_mimir_shards_are_its_ha_clusters(tmp_path: Path) -> None:
    storage = "kind: mimir\n    url: http://mimir:8080"
    rules = _shard_rules(scale_yaml(hosts=4, exporters=2, storage=storage), tmp_path)
    assert [r["expr"] for r in rules] == [
        f'absent_over_time(up{{cluster="shard-{i}"}}[45s])' for i in range(2)
    ]
    assert "$labels.cluster" in rules[0]["annotations"]["description"]


def _shard_fires(shard: str) -> dict[str, Any]:
    rule = alerts.shard_down_rule("shard", shard, "15s", "https://r/{alertname}")
    annotations = dict(rule["annotations"])
    annotations["description"] = annotations["description"].replace("{{ $labels.shard }}", shard)
    annotations["runbook_url"] = "https://runbooks.example.com/alerts/ScraperShardDown"
    return {"exp_labels": {"severity": "critical", "shard": shard}, "exp_annotations": annotations}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_shard_down_when_its_samples_stop_not_at_a_late_start(built: Path) -> None:
    def up(shard: str, instance: str, values: str) -> dict[str, str]:
        return {"series": f'up{{shard="{shard}", instance="{instance}"}}', "values": values}

    # 15 s steps: shard-0 writes throughout, its first 30 s invisible (a fresh store); shard-1
    # writes until 2m (its last sample, some of them failed scrapes), then nothing
    series = [
        up("shard-0", "host-a", "_x2 1x30"),
        up("shard-1", "host-b", "1x4 0x3"),
        up("shard-1", "host-c", "1x8"),
    ]
    cases = [
        {"eval_time": "1m", "alertname": "ScraperShardDown", "exp_alerts": []},
        # absent from 3m (2m is 45 s back), pending through 1m: fires at 4m, not before
        {"eval_time": "3m45s", "alertname": "ScraperShardDown", "exp_alerts": []},
        {
            "eval_time": "4m",
            "alertname": "ScraperShardDown",
            "exp_alerts": [_shard_fires("shard-1")],
        },
        {
            "eval_time": "7m",
            "alertname": "ScraperShardDown",
            "exp_alerts": [_shard_fires("shard-1")],
        },
    ]
    run = _promtool(built, _test_file(series, cases), "shard.test.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    early = [{**cases[1], "exp_alerts": [_shard_fires("shard-1")]}]
    run = _promtool(built, _test_file(series, early), "shard-early.test.yml")
    assert run.returncode != 0 and "ScraperShardDown" in run.stdout + run.stderr
