"""Broken inputs through the real commands: one clear finding each, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GOOD_PANEL = """
  - type: timeseries
    title: Load
    unit: short
    expr: node_load1
"""


def _fw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetwatch", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _content(tmp_path: Path, dashboard: str) -> Path:
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "dashboards" / "mine.yaml").write_text(dashboard)
    return tmp_path


@pytest.mark.parametrize(
    ("dashboard", "needle"),
    [
        ("title: x\npanels: [\n", "mine.yaml:3"),  # bad YAML: the line
        ("title: x\npanels:\n  - type: piechart3d\n    title: P\n    unit: short\n"
         "    expr: up\n", "mine.yaml:3"),  # unknown widget type
    ],
)  # fmt: skip
def test_build_refuses_broken_dashboards(tmp_path: Path, dashboard: str, needle: str) -> None:
    content = _content(tmp_path, dashboard)
    run = _fw("build", "--content", str(content), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    assert needle in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("expr", "rule"),
    [
        ("sum(rate(node_cpu_seconds_total[$__rate_interval])", "promql-syntax"),
        ("node_no_such_metric_bytes", "unknown-metric"),
    ],
)
def test_validate_finds_query_errors(tmp_path: Path, expr: str, rule: str) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed")
    dashboard = (
        f"title: x\npanels:\n  - type: timeseries\n    title: Q\n    unit: short\n"
        f"    expr: '{expr}'\n"
    )
    content = _content(tmp_path, dashboard)
    out = tmp_path / "out"
    built = _fw("build", "--content", str(content), "-o", str(out), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    run = _fw("validate", str(out), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [line for line in run.stdout.splitlines() if " error " in line]
    assert len(errors) == 1, run.stdout
    assert rule in errors[0] and "mine.json" in errors[0]
    assert "Traceback" not in run.stderr


def test_good_content_builds_and_validates(tmp_path: Path) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed")
    content = _content(tmp_path, "title: x\npanels:" + GOOD_PANEL)
    out = tmp_path / "out"
    assert _fw("build", "--content", str(content), "-o", str(out), cwd=tmp_path).returncode == 0
    run = _fw("validate", str(out), "--format", "junit", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "<testsuites" in run.stdout
