"""build_rules output: exact burn-rate decimals, links, determinism, SLO dashboards."""

from __future__ import annotations

from pathlib import Path

import yaml

from fleetwatch.inventory import Inventory
from fleetwatch.rules import build_rules, slo_dashboards

SLO = """\
slos:
  - name: checkout-api
    objective: {objective}
    sli:
      error_query: sum(rate(http_requests_total{{code=~"5.."}}[{{{{window}}}}]))
      total_query: sum(rate(http_requests_total[{{{{window}}}}]))
    min_events_per_hour: 60
"""


def _build(rules_dir: Path, inventory: Inventory, out: Path) -> dict[str, bytes]:
    build_rules(rules_dir, inventory, out)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.yml"))}


def test_burn_rate_thresholds_are_exact_decimals(
    rules_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    (rules_dir / "slo.yaml").write_text(SLO.format(objective=99.9), encoding="utf-8")
    text = _build(rules_dir, inventory, tmp_path / "out")["rules/slo.yml"].decode()
    for factor, long, short, t in (
        ("14.4", "1h", "5m", "0.0144"),
        ("6", "6h", "30m", "0.006"),
        ("3", "1d", "2h", "0.003"),
        ("1", "3d", "6h", "0.001"),
    ):
        assert (
            f'slo:sli_error:ratio_rate{long}{{slo="checkout-api"}} > {t}\n'
            f'      and slo:sli_error:ratio_rate{short}{{slo="checkout-api"}} > {t}\n'
            f'      and slo:sli_total:rate{long}{{slo="checkout-api"}} * 3600 >= 60'
        ) in text, factor
    assert "0.014399999" not in text
    assert "expr: vector(0.001)" in text  # slo:error_budget:ratio
    assert "expr: vector(0.999)" in text  # slo:objective:ratio


def test_other_objectives_stay_exact(rules_dir: Path, inventory: Inventory, tmp_path: Path) -> None:
    (rules_dir / "slo.yaml").write_text(SLO.format(objective=99.95), encoding="utf-8")
    text = _build(rules_dir, inventory, tmp_path / "out")["rules/slo.yml"].decode()
    assert "> 0.0072\n" in text and "> 0.003\n" in text and "> 0.0005\n" in text
    assert "vector(0.0005)" in text and "vector(0.9995)" in text


def test_build_twice_is_byte_identical(
    builtin_rules: Path, inventory: Inventory, tmp_path: Path
) -> None:
    first = _build(builtin_rules, inventory, tmp_path / "a")
    second = _build(builtin_rules, inventory, tmp_path / "b")
    assert first == second
    packs = sorted(p.stem for p in builtin_rules.glob("*.yaml") if p.stem != "config")
    assert {"hosts", "slos", "databases", "containers", "services", "chains"} <= set(packs)
    assert set(first) == {f"rules/{p}.yml" for p in packs} | {f"tests/{p}.test.yml" for p in packs}


def test_annotations_and_labels(builtin_rules: Path, inventory: Inventory, tmp_path: Path) -> None:
    _build(builtin_rules, inventory, tmp_path)
    data = yaml.safe_load((tmp_path / "rules" / "hosts.yml").read_text())
    alerts = {r["alert"]: r for g in data["groups"] for r in g["rules"] if "alert" in r}
    assert len(alerts) == 13
    for name in ("HostSystemdUnitFailed", "HostBondDegraded"):  # expr: alerts of the pack
        assert "instance:maintenance:inventory" in alerts[name]["expr"]
        assert "fw-server-detail" in alerts[name]["annotations"]["dashboard_url"]
    cpu = alerts["HostHighCpu"]
    assert cpu["labels"] == {"severity": "warning"}
    assert cpu["annotations"]["runbook_url"] == "https://runbooks.example.com/alerts/HostHighCpu"
    assert cpu["annotations"]["dashboard_url"] == (
        "http://127.0.0.1:3000/d/fw-server-detail?var-instance={{ $labels.instance }}"
    )
    assert 'maintenance!="true"' in cpu["expr"]
    assert 'on(instance) group_left() instance:threshold:ratio{resource="cpu"}' in cpu["expr"]
    assert alerts["ProbeFailing"]["annotations"]["dashboard_url"].startswith(
        "http://127.0.0.1:3000/d/fw-exporter-health"
    )
    for rule in alerts.values():
        assert set(rule["annotations"]) == {
            "summary",
            "description",
            "runbook_url",
            "dashboard_url",
        }
    records = [r["record"] for g in data["groups"] for r in g["rules"] if "record" in r]
    assert "deployment:node_cpu_used_cores:sum_rate5m" in records
    assert "provider:node_network_transmit_bytes:sum_rate5m" in records


def test_grafana_url_from_config_and_include_maintenance(
    rules_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    (rules_dir / "config.yaml").write_text(
        'runbook_url_pattern: "https://rb/{alertname}"\ngrafana_url: https://grafana.example/\n'
    )
    (rules_dir / "a.yaml").write_text(
        "alerts:\n  - {alert: Down, metric: up, op: '==', threshold: 0, severity: critical,\n"
        "     summary: Down., description: down, include_maintenance: true,\n"
        "     scope: {deployment: prod}}\n"
    )
    _build(rules_dir, inventory, tmp_path / "out")
    rule = yaml.safe_load((tmp_path / "out" / "rules" / "a.yml").read_text())["groups"][0]["rules"][
        0
    ]
    assert rule["expr"] == '(up{job!="fleetwatch", deployment="prod"}) == 0'
    assert rule["annotations"]["dashboard_url"].startswith("https://grafana.example/d/fw-server")
    assert rule["annotations"]["runbook_url"] == "https://rb/Down"


def test_slo_dashboards(builtin_rules: Path) -> None:
    boards = slo_dashboards(builtin_rules)
    assert list(boards) == ["probe-availability"]
    board = yaml.safe_load(boards["probe-availability"])
    assert board["uid"] == "fw-slo-probe-availability"
    titles = [p["title"] for p in board["panels"]]
    assert "Error budget remaining" in titles and "Burn rate per window" in titles
