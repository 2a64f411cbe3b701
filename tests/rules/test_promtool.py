"""The real promtool: the built-in content checks and its generated tests pass; a wrong
expectation fails (the tests can fail); a custom SLI and an expr: alert pass too."""

from __future__ import annotations

from pathlib import Path

import yaml

from fleetwatch.inventory import Inventory
from fleetwatch.rules import build_rules
from fleetwatch.validate.alert_lints import run_rule_tests
from fleetwatch.validate.promtool import Promtool


def _built(rules: Path, inventory: Inventory, out: Path) -> tuple[list[Path], list[Path]]:
    build_rules(rules, inventory, out)
    return sorted((out / "rules").glob("*.yml")), sorted((out / "tests").glob("*.test.yml"))


def test_builtin_content_passes_promtool(
    builtin_rules: Path, inventory: Inventory, tmp_path: Path, promtool: Promtool
) -> None:
    rule_files, test_files = _built(builtin_rules, inventory, tmp_path)
    ok, out = promtool.check_rules_raw(rule_files, lint="all")
    assert ok, out
    assert run_rule_tests(test_files, promtool) == []
    cases = sum(len(yaml.safe_load(p.read_text())["tests"]) for p in test_files)
    assert cases >= 40


def test_a_wrong_expectation_fails(
    builtin_rules: Path, inventory: Inventory, tmp_path: Path, promtool: Promtool
) -> None:
    _, test_files = _built(builtin_rules, inventory, tmp_path)
    hosts = tmp_path / "tests" / "hosts.test.yml"
    text = hosts.read_text()
    assert "has used 95% of its inodes." in text
    hosts.write_text(text.replace("has used 95% of its inodes.", "has used 94% of its inodes."))
    findings = run_rule_tests(test_files, promtool)
    assert [(f.file, f.rule, f.location) for f in findings] == [
        (str(hosts), "rule-test", "HostInodesAlmostFull: fires after for (> 0.9)")
    ]
    assert findings[0].line is not None and "94%" in findings[0].message
    # the file runs in chunks: the finding still names the line in the original file
    name_line = next(
        i for i, line in enumerate(hosts.read_text().splitlines(), 1)
        if "HostInodesAlmostFull: fires after for (> 0.9)" in line
    )  # fmt: skip
    assert findings[0].line == name_line


def test_a_broken_rule_fails_its_tests(
    builtin_rules: Path, inventory: Inventory, tmp_path: Path, promtool: Promtool
) -> None:
    """Dropping the maintenance matcher or shifting a burn threshold is caught."""
    _, test_files = _built(builtin_rules, inventory, tmp_path)
    hosts, slos = tmp_path / "rules" / "hosts.yml", tmp_path / "rules" / "slos.yml"
    hosts.write_text(
        hosts.read_text().replace('abs(node_timex_offset_seconds{maintenance!="true"})',
                                  "abs(node_timex_offset_seconds)")
    )  # fmt: skip
    slos.write_text(slos.read_text().replace("> 0.0144", "> 0.0146"))
    failed = {f.location for f in run_rule_tests(test_files, promtool)}
    assert "HostClockSkew: host in maintenance" in failed
    assert "ProbeAvailabilityErrorBudgetBurn: error ratio 0.0145 just above 14.4x (1h/5m)" in failed
    assert (
        "ProbeAvailabilityErrorBudgetBurn: error ratio 0.0143 just below 14.4x (1h/5m)"
        not in failed
    )


CUSTOM = """\
recording:
  - record: job:app_queue_depth:max
    expr: max by (job) (app_queue_depth)
alerts:
  - alert: QueueTooDeep
    expr: max by (instance, job) (app_queue_depth)
    op: ">"
    threshold: 1000
    for: 5m
    severity: info
    summary: The queue is deep.
    description: "{{ $labels.instance }}: {{ $value }} items ({{ $value | humanize }})."
    dashboard: fw-fleet-overview
    labels: {team: ops}
    test:
      input_series:
        - {series: 'app_queue_depth{instance="a", job="app"}', values: "1234567+0x30"}
      labels: {instance: a, job: app}
      value: 1234567
slos:
  - name: checkout-api
    objective: 99.5
    sli:
      error_query: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
      total_query: sum(rate(http_requests_total[{{window}}]))
    severity: {page: critical, ticket: info}
"""


def test_custom_slo_and_expr_alert_pass(
    rules_dir: Path, inventory: Inventory, tmp_path: Path, promtool: Promtool
) -> None:
    (rules_dir / "app.yaml").write_text(CUSTOM, encoding="utf-8")
    rule_files, test_files = _built(rules_dir, inventory, tmp_path / "out")
    ok, out = promtool.check_rules_raw(rule_files)
    assert ok, out
    assert run_rule_tests(test_files, promtool) == []
    text = rule_files[0].read_text()
    assert (
        "> 0.072\n" in text and "> 0.03\n" in text and "> 0.015\n" in text and "> 0.005\n" in text
    )
