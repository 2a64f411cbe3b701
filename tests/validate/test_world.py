"""validate on files users bring: sound third-party patterns stay quiet, planted defects are
caught with the right rule id and line (fixtures in tests/validate/world/, written in the style
of public dashboards and rule packs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.validate.engine import run
from fleetwatch.validate.findings import Finding
from fleetwatch.validate.policy import Policy
from fleetwatch.validate.promtool import Promtool

WORLD = Path(__file__).parent / "world"
SOUND = sorted((WORLD / "sound").iterdir())
#: warnings a sound file may carry: they name a real deprecation or a redundancy
ALLOWED_WARNINGS = {
    ("exported-node-overview.json", "angular-panel"),
    ("node-alerts.rules.yml", "regex-anchored"),
}
PLANTED = [
    # (file, line, rule, words of the message)
    ("planted.rules.yml", 7, "rate-of-gauge", "increase() of node_memory_Active_bytes, a gauge"),
    ("planted.rules.yml", 15, "template-label", "'instance'"),
    ("planted.rules.yml", 17, "alert-always-fires", "always fires"),
    ("planted.rules.yml", 22, "empty-side", "never fires"),
    ("planted.rules.yml", 29, "value-in-labels", "$value"),
    ("planted.rules.yml", 32, "alert-fragile", "topk"),
    ("planted.rules.yml", 37, "absent-without-for", "for:"),
    ("planted.rules.yml", 41, "histogram-quantile-le", "`le`"),
    ("planted.rules.yml", 46, "counter-without-rate", "http_requests_total"),
    ("planted.rules.yml", 51, "regex-literal", 'job="node"'),
    ("planted.rules.yml", 56, "alert-no-condition", "no condition"),
    ("planted.rules.yml", 63, "rate-over-aggregate", "already a rate"),
    ("planted.rules.yml", 67, "duplicate-rule", "same record"),
    ("planted.rules.yml", 70, "histogram-quantile-input", "http_request_duration_seconds_sum"),
    ("planted.rules.yml", 77, "template-label", "'instance'"),
    ("planted-dashboard.json", 13, "variable-query", "not a label name"),
    ("planted-dashboard.json", 25, "rate-of-gauge", "node_load1, a gauge"),
    ("planted-dashboard.json", 52, "counter-without-rate", "node_network_receive_bytes_total"),
    ("planted-dashboard.json", 79, "variable-undefined", "$node"),
    ("planted-dashboard.json", 106, "histogram-quantile-le", "`le`"),
    ("planted-dashboard.json", 133, "rate-interval", "[5m]"),
    ("planted-dashboard.json", 160, "panel-overlap", 'panel 5 "CPU"'),
    ("planted-dashboard.json", 160, "unit-id", "bytes per second"),
    ("planted-prometheusrule.yaml", 15, "template-label", "'pod'"),
]


def _findings(path: Path, promtool: Promtool, **kwargs: object) -> list[Finding]:
    return run([path], promtool=promtool, **kwargs).findings  # type: ignore[arg-type]


@pytest.mark.parametrize("path", SOUND, ids=[p.name for p in SOUND])
def test_sound_third_party_files_are_quiet(promtool: Promtool, path: Path) -> None:
    findings = _findings(path, promtool)
    loud = [f for f in findings if f.severity != "info"]
    unexpected = [f for f in loud if (path.name, f.rule) not in ALLOWED_WARNINGS]
    assert unexpected == []
    assert not any(f.is_error for f in findings)


@pytest.mark.parametrize(("name", "line", "rule", "words"), PLANTED)
def test_planted_defect_is_caught(
    promtool: Promtool, name: str, line: int, rule: str, words: str
) -> None:
    findings = _findings(WORLD / "planted" / name, promtool)
    hits = [f for f in findings if f.rule == rule and f.line == line]
    assert hits, [(f.line, f.rule) for f in findings]
    assert words in hits[0].message


def test_planted_files_have_no_other_findings(promtool: Promtool) -> None:
    expected = {(n, line, r) for n, line, r, _ in PLANTED}
    for name in sorted({n for n, *_ in PLANTED}):
        for f in _findings(WORLD / "planted" / name, promtool):
            if f.severity != "info":
                assert (name, f.line, f.rule) in expected, f


def test_house_style_is_strict_only_when_asked(promtool: Promtool) -> None:
    path = WORLD / "sound" / "node-alerts.rules.yml"
    default = _findings(path, promtool)
    assert {f.severity for f in default if f.rule == "alert-annotations"} == {"info"}
    strict = _findings(path, promtool, policy=Policy("strict"))
    assert {f.severity for f in strict if f.rule == "alert-annotations"} == {"error"}


def test_severity_and_disable_from_the_command_line_and_the_file(
    promtool: Promtool, tmp_path: Path
) -> None:
    path = WORLD / "planted" / "planted-dashboard.json"
    policy = Policy("auto", {"rate-of-gauge": "warning", "unit-id": "off"})
    got = {f.rule: f.severity for f in _findings(path, promtool, policy=policy)}
    assert got["rate-of-gauge"] == "warning"
    assert "unit-id" not in got
    config = tmp_path / "exceptions.yaml"
    config.write_text(
        "rules:\n"
        "  - {rule: rate-of-gauge, severity: info, reason: load is graphed as growth on purpose}\n"
        "  - {rule: panel-overlap, disable: true}\n"
    )
    found = _findings(path, promtool, exceptions=config)
    got = {f.rule: f.severity for f in found}
    assert got["rate-of-gauge"] == "info"
    assert got["panel-overlap"] == "warning"  # no reason: the entry changes nothing
    assert [f.rule for f in found if f.file == str(config)] == ["exception-reason"]


def test_a_named_file_of_no_known_kind_is_an_error(promtool: Promtool, tmp_path: Path) -> None:
    odd = tmp_path / "values.yaml"
    odd.write_text("replicaCount: 2\n")
    assert [(f.rule, f.severity) for f in _findings(odd, promtool)] == [("unknown-file", "error")]
    walked = run([tmp_path], promtool=promtool).findings
    assert [(f.rule, f.severity) for f in walked] == [("skipped-file", "info")]


def test_a_configmap_finding_points_into_the_embedded_json(
    promtool: Promtool, tmp_path: Path
) -> None:
    text = (WORLD / "sound" / "redis-dashboard-configmap.yaml").read_text()
    text = text.replace("redis_up{", "rate(redis_up[5m]) + redis_up{", 1)
    path = tmp_path / "cm.yaml"
    path.write_text(text)
    hits = [f for f in _findings(path, promtool) if f.rule == "rate-of-gauge"]
    assert len(hits) == 1
    line = text.splitlines()[hits[0].line - 1]  # type: ignore[operator]
    assert '"id": 1' in line or "redis_up" in line or '"type": "stat"' in line, line
    assert hits[0].location.startswith("ConfigMap grafana-dashboard-redis key redis.json panel 1")


def test_promtool_errors_of_a_prometheusrule_point_at_the_resource(
    promtool: Promtool, tmp_path: Path
) -> None:
    text = (WORLD / "planted" / "planted-prometheusrule.yaml").read_text()
    path = tmp_path / "pr.yaml"
    path.write_text(
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n"
        + text.replace("> 10", "> > 10")
    )
    found = [f for f in _findings(path, promtool) if f.rule == "promtool-rules"]
    assert len(found) == 1 and found[0].file == str(path)
    assert found[0].location.startswith("PrometheusRule planted")
    assert found[0].line == 10  # spec: of the second document


def test_a_template_label_in_labels_is_an_error_in_annotations_a_warning(
    promtool: Promtool,
) -> None:
    found = _findings(WORLD / "planted" / "planted.rules.yml", promtool)
    severity = {f.line: f.severity for f in found if f.rule == "template-label"}
    assert severity == {15: "warning", 77: "error"}


def test_a_prometheus_yml_in_the_same_run_tells_the_rate_windows(
    promtool: Promtool, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: g\n  rules:\n  - record: job:x:rate30s\n"
        "    expr: sum by (job) (rate(x_total[30s]))\n"
    )
    assert [f.rule for f in _findings(rules, promtool) if f.severity != "info"] == []
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 30s}\nscrape_configs: []\n")
    found = run([rules, config], promtool=promtool).findings
    assert [(f.rule, f.line) for f in found if f.severity != "info"] == [("rate-window", 5)]
    assert "[1m]" in next(f.message for f in found if f.rule == "rate-window")
