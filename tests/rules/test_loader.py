# ruff: noqa: E501  (the expected messages read best unbroken)
"""rules/*.yaml errors: every problem at once, each as file:line: message (key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.errors import ConfigErrors
from fleetwatch.inventory import Inventory
from fleetwatch.rules import build_rules

GOOD = """\
alerts:
  - alert: HostHighCpu
    metric: cpu
    op: ">"
    threshold: 0.9
    for: 10m
    severity: warning
    summary: CPU is busy.
    description: "{{ $labels.instance }} at {{ $value | humanizePercentage }}."
"""


def errors(rules_dir: Path, inventory: Inventory, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (rules_dir / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        build_rules(rules_dir, inventory, rules_dir.parent / "out")
    return [e.message for e in info.value.errors]


def test_good_file_builds(rules_dir: Path, inventory: Inventory, tmp_path: Path) -> None:
    (rules_dir / "a.yaml").write_text(GOOD, encoding="utf-8")
    written = build_rules(rules_dir, inventory, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == [
        "rules/a.yml",
        "tests/a.test.yml",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    for: 10m", "    for: 10 minutes", "a.yaml:6: invalid duration '10 minutes'"),
        ("severity: warning", "severity: page", "a.yaml:7: must be one of 'critical', 'warning', 'info'; got 'page' (alerts[0].severity)"),
        ("alert: HostHighCpu", "alert: host_high_cpu", "a.yaml:2: alert name 'host_high_cpu' must be CamelCase (like HostHighCpu) (alerts[0].alert)"),
        ("    for: 10m", "    for: 10m\n    colour: red", "a.yaml:7: unknown key 'colour'; expected one of:"),
        ("    for: 10m", "    fro: 10m", "a.yaml:6: unknown key 'fro'; did you mean 'for'? (alerts[0].fro)"),
        ("summary: CPU is busy.", "summary: CPU of {{ $labels.instance }} is busy.", "a.yaml:8: summary must be a plain sentence: a capital first, a period last, no {{ }} (alerts[0].summary)"),
        ("op: \">\"", "op: \"=>\"", "a.yaml:4: must be one of '>', '>=', '<', '<=', '==', '!='; got '=>' (alerts[0].op)"),
        ("threshold: 0.9", "threshold: {inventory: gpu}", "a.yaml:5: must be one of 'cpu', 'memory', 'disk'; got 'gpu'; did you mean 'cpu'? (alerts[0].threshold.inventory)"),
        ("metric: cpu", "metric: cpu\n    expr: up", "a.yaml:2: give exactly one of metric: (a shorthand) or expr: (PromQL) (alerts[0])"),
        ("metric: cpu", "expr: up", "a.yaml:2: an expr: alert needs a test: block (input_series, labels, value) (alerts[0])"),
        ("{{ $value | humanizePercentage }}", "{{ $value | humanizeDuration }}", "a.yaml:9: template action {{ $value | humanizeDuration }} cannot be expanded"),
    ],
)  # fmt: skip
def test_alert_errors(
    rules_dir: Path, inventory: Inventory, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    found = errors(rules_dir, inventory, {"a.yaml": GOOD.replace(old, new)})
    assert any(
        str(rules_dir / expected) in m or m.startswith(str(rules_dir / expected)) for m in found
    ), found


def test_duplicate_alert_names_across_files(rules_dir: Path, inventory: Inventory) -> None:
    found = errors(rules_dir, inventory, {"a.yaml": GOOD, "b.yaml": "\n\n" + GOOD})
    assert found == [
        f"{rules_dir}/b.yaml:4: duplicate alert name 'HostHighCpu' "
        f"(first defined at {rules_dir}/a.yaml:2) (alerts[0].alert)"
    ]


def test_every_problem_at_once_sorted_by_line(rules_dir: Path, inventory: Inventory) -> None:
    text = GOOD.replace("for: 10m", "for: soon").replace("alert: HostHighCpu", "alert: cpu")
    found = errors(rules_dir, inventory, {"a.yaml": text})
    assert [m.split(": ")[0] for m in found] == [f"{rules_dir}/a.yaml:2", f"{rules_dir}/a.yaml:6"]


def test_recording_name_and_slo_errors(rules_dir: Path, inventory: Inventory) -> None:
    text = """\
recording:
  - record: cpu_busy
    expr: sum(rate(node_cpu_seconds_total[5m]))
slos:
  - name: api
    objective: 99.9
    sli: {error_query: 'sum(rate(errors_total[5m]))', total_query: 'sum(rate(requests_total[{{window}}]))'}
  - name: web
    objective: 100
    sli: {probes: {}}
"""
    found = errors(rules_dir, inventory, {"s.yaml": text})
    assert found == [
        f"{rules_dir}/s.yaml:2: recording rule name 'cpu_busy' must be level:metric:operations "
        "(like deployment:node_cpu_used_cores:sum_rate5m) (recording[0].record)",
        f"{rules_dir}/s.yaml:7: must contain the {{{{window}}}} range (slos[0].sli.error_query)",
        f"{rules_dir}/s.yaml:9: must be less than 100; got 100 (slos[1].objective)",
    ]


def test_reserved_file_name(rules_dir: Path, inventory: Inventory) -> None:
    found = errors(rules_dir, inventory, {"inventory.yaml": GOOD})
    assert found[0].startswith(
        f"{rules_dir}/inventory.yaml:1: file name 'inventory.yaml' is reserved"
    )


def test_runbook_required_without_pattern(rules_dir: Path, inventory: Inventory) -> None:
    (rules_dir / "config.yaml").write_text("{}\n", encoding="utf-8")
    found = errors(rules_dir, inventory, {"a.yaml": GOOD})
    assert found == [
        f"{rules_dir}/a.yaml:2: no runbook: set runbook_url_pattern in rules/config.yaml or "
        "runbook: (alerts[0])"
    ]


def test_unknown_dashboard_uid(rules_dir: Path, inventory: Inventory, tmp_path: Path) -> None:
    (rules_dir / "a.yaml").write_text(GOOD.replace("for: 10m", "for: 10m\n    dashboard: nope"))
    dashboards = tmp_path / "dashboards" / "fleet"
    dashboards.mkdir(parents=True)
    (dashboards / "x.yaml").write_text("title: X\nuid: fw-server-detail\npanels: []\n")
    with pytest.raises(ConfigErrors) as info:
        build_rules(rules_dir, inventory, tmp_path / "out", dashboards_src=tmp_path / "dashboards")
    assert info.value.errors[0].message.startswith(f"{rules_dir}/a.yaml:2: dashboard 'nope'")
