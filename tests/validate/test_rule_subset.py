"""Rule tests run with only the rules each case can observe: which rules those are, what makes
it fall back to every rule, and real promtool runs that still pass and still fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetwatch.validate.alert_lints import _chunks, run_rule_tests
from fleetwatch.validate.promtool import Promtool
from fleetwatch.validate.rule_subset import RuleFiles

# two files, three groups: an alert over a recording rule over another, in other files / groups
RECORDS = """\
groups:
- name: base
  rules:
  - record: job:req:rate1m
    expr: sum by (job) (rate(req_total[1m]))
  - record: job:unused:sum
    expr: sum by (job) (unused)
- name: derived
  rules:
  - record: job:req:rate1m_x2
    expr: job:req:rate1m * 2
"""
ALERTS = """\
groups:
- name: alerts
  rules:
  - alert: ReqHigh
    expr: job:req:rate1m_x2 > 1
    for: 2m
    labels: {severity: warning}
    annotations: {summary: Requests are high.}
  - alert: Other
    expr: other > 0
    labels: {severity: info}
  - record: job:alerts:count
    expr: count by (alertname) (ALERTS{alertstate="firing"})
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "records.yml").write_text(RECORDS)
    (tmp_path / "alerts.yml").write_text(ALERTS)
    return tmp_path / "records.yml", tmp_path / "alerts.yml"


def _names(rules: RuleFiles, need: frozenset[tuple[int, int, int]] | None) -> set[str]:
    assert need is not None
    out = set()
    for f, g, r in need:
        rule = rules.docs[f]["groups"][g]["rules"][r]
        out.add(rule.get("alert") or rule["record"])
    return out


def test_an_alert_needs_its_recording_rules_transitively(files: tuple[Path, Path]) -> None:
    rules = RuleFiles.load(files)
    assert rules is not None
    case = {"alert_rule_test": [{"alertname": "ReqHigh", "eval_time": "5m"}]}
    assert _names(rules, rules.needed(case)) == {"ReqHigh", "job:req:rate1m_x2", "job:req:rate1m"}
    expr = {"promql_expr_test": [{"expr": "job:unused:sum", "eval_time": "1m"}]}
    assert _names(rules, rules.needed(expr)) == {"job:unused:sum"}
    plain = {"promql_expr_test": [{"expr": "rate(req_total[5m])", "eval_time": "1m"}]}
    assert rules.needed(plain) == frozenset()


def test_alerts_series_needs_every_alert(files: tuple[Path, Path]) -> None:
    rules = RuleFiles.load(files)
    assert rules is not None
    case = {"promql_expr_test": [{"expr": "job:alerts:count", "eval_time": "5m"}]}
    assert _names(rules, rules.needed(case)) == {
        "job:alerts:count", "ReqHigh", "Other", "job:req:rate1m_x2", "job:req:rate1m",
    }  # fmt: skip


@pytest.mark.parametrize(
    "expr", ['{job="a"}', '{__name__=~"job:.*"}', 'sum({__name__!="x", job="a"})']
)
def test_a_selector_without_a_plain_name_needs_every_rule(
    files: tuple[Path, Path], expr: str
) -> None:
    rules = RuleFiles.load(files)
    assert rules is not None
    assert rules.needed({"promql_expr_test": [{"expr": expr, "eval_time": "1m"}]}) is None


@pytest.mark.parametrize(
    "text",
    [
        ALERTS.replace("Requests are high.", '{{ with query "up" }}{{ . }}{{ end }}'),
        ALERTS + "other: key\n",
        "groups: [{name: g, rules: [{record: a, alert: B, expr: up}]}]\n",
        "groups: [{name: g, rules: [{record: a}]}]\n",
        "groups: [{name: g, rules: [{alert: A, expr: up, labels: [x]}]}]\n",
        "groups: {name: g}\n",
        "{ not yaml",
    ],
)
def test_rule_files_it_cannot_read_fall_back(files: tuple[Path, Path], text: str) -> None:
    files[1].write_text(text)
    assert RuleFiles.load(files) is None


def _test_file(tmp_path: Path, cases: list[dict[str, object]], **extra: object) -> Path:
    path = tmp_path / "t.test.yml"
    doc = {"rule_files": ["records.yml", "alerts.yml"], "evaluation_interval": "1m", **extra}
    path.write_text(yaml.safe_dump({**doc, "tests": cases}, sort_keys=False))
    return path


def _fires(value: int, name: str = "req high") -> dict[str, object]:
    return {
        "name": name,
        "interval": "1m",
        "input_series": [{"series": 'req_total{job="a"}', "values": f"0+{value}x20"}],
        "alert_rule_test": [
            {"eval_time": "1m", "alertname": "ReqHigh", "exp_alerts": []},
            {
                "eval_time": "10m",
                "alertname": "ReqHigh",
                "exp_alerts": [
                    {
                        "exp_labels": {"job": "a", "severity": "warning"},
                        "exp_annotations": {"summary": "Requests are high."},
                    }
                ],
            },
        ],
    }


def _other(name: str) -> dict[str, object]:
    return {
        "name": name,
        "interval": "1m",
        "input_series": [{"series": 'other{job="b"}', "values": "1x5"}],
        "alert_rule_test": [
            {
                "eval_time": "2m",
                "alertname": "Other",
                "exp_alerts": [{"exp_labels": {"job": "b", "severity": "info"}}],
            }
        ],
    }


def test_chunks_carry_only_the_rules_their_cases_need(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    path = _test_file(tmp_path, [_fires(120), _other("o1"), _other("o2")])
    chunks = _chunks(path, 4, tmp_path / "chunks")
    kept = []
    for chunk, rule_paths, cost in chunks:
        doc = yaml.safe_load(chunk.read_text())
        assert doc["rule_files"] == [str(p) for p in rule_paths]
        rules = [r for p in rule_paths for g in yaml.safe_load(p.read_text())["groups"]
                 for r in g["rules"]]  # fmt: skip
        kept.append(([t["name"] for t in doc["tests"]], len(rules), cost > 0))
    assert sorted(kept) == [(["o1", "o2"], 1, True), (["req high"], 3, True)]


def test_subset_runs_pass_and_fail_as_whole_ones(
    files: tuple[Path, Path], tmp_path: Path, promtool: Promtool
) -> None:
    good = [_fires(120), _other("o1"), _other("o2")]
    path = _test_file(tmp_path, good)
    assert run_rule_tests([path], promtool) == []
    # the rate of +12 a minute, doubled, is 0.4/s: the alert stays silent and the case fails
    path = _test_file(tmp_path, [_other("o1"), _fires(12, "too slow to fire")])
    findings = run_rule_tests([path], promtool)
    assert [(f.file, f.location) for f in findings] == [(str(path), "too slow to fire")]
    line = path.read_text().splitlines().index("- name: too slow to fire") + 1
    assert findings[0].line == line


def test_group_eval_order_runs_with_every_rule(
    files: tuple[Path, Path], tmp_path: Path, promtool: Promtool
) -> None:
    path = _test_file(tmp_path, [_fires(120)], group_eval_order=["derived", "base", "alerts"])
    assert _chunks(path, 4, tmp_path / "chunks") == [
        (path, [p.resolve() for p in files], pytest.approx(660 * 30))
    ]
    assert run_rule_tests([path], promtool) == []
