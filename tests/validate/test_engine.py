"""The engine: build directories, folders and single files; the reference dashboard."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetwatch.validate import engine
from fleetwatch.validate.engine import run, validate
from fleetwatch.validate.promtool import Promtool
from validate.samples import NODE_EXPORTER_FULL, good_dashboard, write_json

RULES = (
    "groups:\n- name: node\n  rules:\n"
    "  - record: job:node_load1:avg\n    expr: avg by (job) (node_load1)\n"
)
CONFIG = (
    "global: {scrape_interval: 15s}\nrule_files: [rules/*.yml]\n"
    "scrape_configs: [{job_name: a, file_sd_configs: [{files: [targets/*.json]}]}]\n"
)


def dashboard_with(expr: str, uid: str = "fw-test") -> dict[str, Any]:
    dash = good_dashboard()
    dash["uid"] = uid
    dash["panels"][3]["panels"][0]["targets"][0]["expr"] = expr
    return dash


def make_build(root: Path, dashboards: int = 1) -> Path:
    build = root / "build"
    for i in range(dashboards):
        dash = dashboard_with('job:node_load1:avg{job="$job"}', uid=f"fw-{i}")
        write_json(build / "grafana" / "dashboards" / "hosts" / f"d{i}.json", dash)
    write_json(build / "grafana" / "provisioning" / "datasources" / "x.json", {"a": 1})
    (build / "prometheus" / "rules").mkdir(parents=True)
    (build / "prometheus" / "rules" / "node.yml").write_text(RULES)
    (build / "prometheus" / "targets").mkdir()
    write_json(build / "prometheus" / "targets" / "t.json", [{"targets": ["h:1"]}])
    (build / "prometheus" / "prometheus.yml").write_text(CONFIG)
    return build


def test_clean_build_directory(promtool: Promtool, tmp_path: Path) -> None:
    build = make_build(tmp_path)
    result = run([build], promtool=promtool)
    assert result.findings == []
    assert set(result.checked) == {
        str(build / "grafana/dashboards/hosts/d0.json"),
        str(build / "prometheus/rules/node.yml"),
        str(build / "prometheus/prometheus.yml"),
    }


def test_build_directory_with_broken_parts(promtool: Promtool, tmp_path: Path) -> None:
    build = make_build(tmp_path)
    (build / "prometheus" / "rules" / "bad.yml").write_text(RULES.replace("(node_load1)", "("))
    (build / "prometheus" / "prometheus.yml").write_text(CONFIG + "bogus: 1\n")
    findings = validate([build], exceptions=None, promtool=promtool)
    assert [(Path(f.file).name, f.rule) for f in findings] == [
        ("prometheus.yml", "promtool-config"),
        ("bad.yml", "promtool-rules"),
    ]


@pytest.mark.parametrize(
    ("expr", "rule"),
    [
        ('sum(rate(node_cpu_seconds_total{job="$job"}[$__rate_interval])', "promql-syntax"),
        ('node_memory_MemAvailabel_bytes{job="$job"}', "unknown-metric"),
        ('rate(node_network_receive_bytes_total{job="$job"}[5m])', "rate-interval"),
    ],
)
def test_one_mistake_one_finding(promtool: Promtool, tmp_path: Path, expr: str, rule: str) -> None:
    path = write_json(tmp_path / "d.json", dashboard_with(expr))
    findings = validate([path], exceptions=None, promtool=promtool)
    assert [(f.file, f.rule, f.location) for f in findings] == [
        (str(path), rule, 'panel 5 "Available"')
    ]


def test_folder_of_mixed_files(promtool: Promtool, tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", dashboard_with("job:node_load1:avg", uid="same"))
    write_json(tmp_path / "sub" / "b.json", dashboard_with("node_load5", uid="same"))
    (tmp_path / "sub" / "rules.yaml").write_text(RULES)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "other.yml").write_text("a: 1\n")
    (tmp_path / "broken.yml").write_text("a: [\n")
    (tmp_path / "broken.json").write_text("{\n")
    write_json(tmp_path / "targets.json", [{"targets": ["h:1"]}])
    (tmp_path / ".hidden.yml").write_text("a: 1\n")
    findings = validate([tmp_path], exceptions=None, promtool=promtool)
    got = [(Path(f.file).name, f.rule, f.severity) for f in findings]
    assert got == [
        ("broken.json", "parse", "error"),
        ("broken.yml", "parse", "error"),
        ("notes.txt", "skipped-file", "info"),
        ("other.yml", "skipped-file", "info"),
        ("b.json", "uid-duplicate", "error"),
    ]


def test_exceptions_and_catalog_extra(promtool: Promtool, tmp_path: Path) -> None:
    # node_memory_ is claimed by node_exporter's catalog: a name it lacks is an error...
    path = write_json(tmp_path / "d.json", dashboard_with("node_memory_AppQueue_bytes"))
    assert [f.rule for f in validate([path], exceptions=None, promtool=promtool)] == [
        "unknown-metric"
    ]
    extra = {"node_memory_AppQueue_bytes"}
    assert validate([path], exceptions=None, promtool=promtool, catalog_extra=extra) == []
    exc = tmp_path / "exc.yaml"
    exc.write_text("- {rule: unknown-metric, file: d.json, reason: textfile metric of ours}\n")
    assert validate([path], exceptions=exc, promtool=promtool) == []


def test_unclaimed_names_pass_and_user_catalogs_are_read(
    promtool: Promtool, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "d.json", dashboard_with("rate(shop_orders[$__rate_interval])"))
    assert validate([path], exceptions=None, promtool=promtool) == []  # no catalog claims shop_
    catalog = tmp_path / "shop.yaml"
    catalog.write_text("namespaces: [shop_]\nmetrics:\n  - {name: shop_orders, type: gauge}\n")
    found = run([path], promtool=promtool, catalogs=[catalog]).findings
    assert [f.rule for f in found] == ["rate-of-gauge"]  # the user's catalog says it is a gauge
    typo = write_json(tmp_path / "t.json", dashboard_with("shop_order"))
    found = run([typo], promtool=promtool, catalogs=[catalog]).findings
    assert [f.rule for f in found] == ["unknown-metric"]
    assert "did you mean shop_orders" in found[0].message


def test_promtool_runs_once_for_all_dashboards(
    promtool: Promtool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = Promtool.check_rules_raw

    def counting(self: Promtool, paths: Any, lint: str = "none") -> tuple[bool, str]:
        calls.append(str(paths))
        return real(self, paths, lint)

    monkeypatch.setattr(Promtool, "check_rules_raw", counting)
    build = make_build(tmp_path, dashboards=200)
    start = time.monotonic()
    assert run([build], promtool=promtool).findings == []
    elapsed = time.monotonic() - start
    assert len(calls) == 2  # the rule files, then all queries of all dashboards
    print(f"200 dashboards validated in {elapsed:.2f}s")
    assert elapsed < 10


def test_node_exporter_full(promtool: Promtool) -> None:
    if not NODE_EXPORTER_FULL.is_file():
        pytest.skip(f"{NODE_EXPORTER_FULL} not present")
    findings = validate([NODE_EXPORTER_FULL], exceptions=None, promtool=promtool)
    counts = Counter(f"{f.rule} ({f.severity})" for f in findings)
    print("node-exporter-full.json:", dict(sorted(counts.items())))
    # a sound community dashboard: no error; its literal regexes (device!~"rootfs") are the one
    # redundancy worth a warning; its datasource variable's name is house style (info)
    assert not [f for f in findings if f.is_error]
    # (it also shows node_kernel_hung_tasks, a counter, as a raw value: a fair warning)
    assert {f.rule for f in findings if f.severity == "warning"} <= {
        "regex-literal",
        "counter-without-rate",
    }
    assert {f.rule for f in findings if f.severity == "info"} <= {"datasource-variable"}
    assert all(f.location.startswith("panel ") and f.line for f in findings if f.severity != "info")


def test_missing_path_is_a_finding(promtool: Promtool, tmp_path: Path) -> None:
    findings = validate([tmp_path / "nope.json"], exceptions=None, promtool=promtool)
    assert [f.rule for f in findings] == ["parse"]


def test_api_export_file(promtool: Promtool, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"dashboard": good_dashboard(), "meta": {"slug": "t"}}))
    assert engine.validate([path], exceptions=None, promtool=promtool) == []


def test_a_panel_on_the_inventorys_own_sql_metric_passes(
    promtool: Promtool, tmp_path: Path
) -> None:
    """The example inventory's custom query makes tenants_total (a gauge): a dashboard on it
    passes validate, which knows it from the build's prometheus/catalog.yml."""
    from fleetwatch.build import build
    from fleetwatch.inventory import load_inventory

    repo = Path(__file__).resolve().parents[2]
    inv = load_inventory(repo / "exporters" / "fleet.example.yaml", check_files=False)
    out = tmp_path / "build"
    build(inv, repo, out)
    catalog = yaml.safe_load((out / "prometheus" / "catalog.yml").read_text())
    assert {"name": "tenants_total", "type": "gauge"}.items() <= catalog["metrics"][0].items()
    dash = dashboard_with('sum by (status) (tenants_total{job="$job"})', uid="tenants")
    write_json(out / "grafana" / "dashboards" / "platform" / "tenants.json", dash)
    found = run([out], promtool=promtool).findings
    assert [f for f in found if f.file.endswith("tenants.json")] == []
    (out / "prometheus" / "catalog.yml").unlink()  # without it: an unknown name of the build
    found = run([out], promtool=promtool).findings
    # (and, its type unknown, a _total name is taken for a counter shown raw)
    rules = {f.rule for f in found if f.file.endswith("tenants.json")}
    assert rules == {"unknown-metric", "counter-without-rate"}
