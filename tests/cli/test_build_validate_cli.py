"""Broken inputs through the real commands: one clear finding each, never a traceback."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from commands import fleetwatch

ROOT = Path(__file__).resolve().parents[2]

GOOD_PANEL = """
  - type: timeseries
    title: Load
    unit: short
    expr: node_load1
"""


_fw = functools.partial(fleetwatch, timeout=120)


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


def test_validate_without_promtool_amtool_or_a_docker_daemon_is_one_line(tmp_path: Path) -> None:
    """The first contact of issue 10: a docker client with no daemon behind it, and neither
    promtool nor amtool on PATH. The whole shipped build gets one line and exit 5, not one
    `Cannot connect to the Docker daemon` finding per query, rule file and test file."""
    out = tmp_path / "build"
    built = _fw("build", "--content", str(ROOT), "-o", str(out), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    stubs = tmp_path / "bin"
    stubs.mkdir()
    docker = stubs / "docker"
    docker.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?' >&2\nexit 1\n"
    )
    docker.chmod(0o755)
    env = {"PATH": str(stubs), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    run = subprocess.run(
        [sys.executable, "-m", "fleetwatch", "validate", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 5, run.stdout + run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("fleetwatch: error: promtool not found on PATH and the Docker daemon")
    assert "amtool not found on PATH" in line  # both missing tools, in the same line
    assert "apt-get install prometheus" in line and "--promtool PATH" in line
