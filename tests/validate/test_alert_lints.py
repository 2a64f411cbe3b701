"""Alert lints on rule files no one here wrote, and the promtool test output parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetwatch.validate.alert_lints import lint_rule_file, parse_test_output

BAD = """\
groups:
  - name: g
    rules:
      - alert: high_cpu
        expr: rate(node_cpu_seconds_total[1m]) > 0.9
        labels: {severity: page}
        annotations:
          summary: "CPU of {{ $labels.instance }} is high"
          dashboard_url: http://grafana/d/nope?var-instance=x
      - record: job:x:rate30s
        expr: sum(increase(x_total[30s:10s]))
      - alert: Fine
        expr: up == 0
        labels: {severity: critical}
        annotations: {summary: Down., description: d, runbook_url: r, dashboard_url: http://g/d/ok}
"""


def _lint(tmp_path: Path, text: str, build: bool = False) -> list[tuple[str, int | None, str]]:
    path = tmp_path / "r.yml"
    path.write_text(text)
    build_dir = None
    if build:
        build_dir = tmp_path / "build" / "prometheus"
        build_dir.mkdir(parents=True)
        (build_dir / "prometheus.yml").write_text(
            "global: {scrape_interval: 15s}\n"
            "scrape_configs:\n  - {job_name: a, scrape_interval: 1m}\n"
        )
        boards = tmp_path / "build" / "grafana" / "dashboards" / "f"
        boards.mkdir(parents=True)
        (boards / "ok.json").write_text(json.dumps({"uid": "ok", "panels": []}))
    return [
        (f.rule, f.line, f.message) for f in lint_rule_file(path, yaml.safe_load(text), build_dir)
    ]


def test_every_rule(tmp_path: Path) -> None:
    found = _lint(tmp_path, BAD, build=True)
    rules = sorted({(r, line) for r, line, _ in found})
    assert rules == [
        ("alert-annotations", 4),
        ("alert-name", 4),
        ("alert-severity", 6),
        ("alert-summary", 8),
        ("dashboard-url", 9),
        ("rate-window", 5),
        ("rate-window", 11),
    ]
    msgs = {r: m for r, _, m in found}
    assert "missing annotation(s): description, runbook_url" in msgs["alert-annotations"]
    assert "use at least [2m]" in msgs["rate-window"]  # 2 x the largest interval (1m)


def test_no_window_check_where_the_interval_is_unknown(tmp_path: Path) -> None:
    # a rule file of someone else's: its scrape interval is not known, nothing is guessed
    text = "groups: [{name: g, rules: [{record: a:b:c, expr: 'rate(x_total[30s])'}]}]"
    assert _lint(tmp_path, text) == []


@pytest.mark.parametrize(
    "odd",
    [None, [], {"groups": None}, {"groups": [None, 3, {"rules": "x"}]},
     {"groups": [{"rules": [None, {"alert": 5, "labels": [], "annotations": "x", "expr": 7}]}]}],
)  # fmt: skip
def test_odd_shapes_do_not_crash(tmp_path: Path, odd: Any) -> None:
    path = tmp_path / "odd.yml"
    path.write_text(yaml.safe_dump(odd))
    lint_rule_file(path, odd, tmp_path)


OUTPUT = """\
Unit Testing:  /x/a.test.yml
  FAILED:
    name: first case,
    alertname: A, time: 20m,
        exp:[],
        got:[ 0: Labels:{alertname="A"} ]

    name: second case,
    expr: "up", time: 1m,
        exp: "{} 1"
        got: "{} 0"

"""


def test_parse_test_output(tmp_path: Path) -> None:
    findings = parse_test_output(OUTPUT, [Path("/x/a.test.yml")])
    assert [(f.location, f.rule) for f in findings] == [
        ("first case", "rule-test"),
        ("second case", "rule-test"),
    ]
    assert findings[0].message.startswith("alertname: A, time: 20m")
