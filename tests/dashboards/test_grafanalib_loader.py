"""``*.dashboard.py`` files: the dashboard's JSON, or a ConfigError naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.dashboards.grafanalib_loader import load_grafanalib
from fleetwatch.errors import ConfigError

GOOD = """\
from grafanalib.core import Dashboard, Stat, Target

dashboard = Dashboard(title="Py", panels=[Stat(title="s", targets=[Target(expr="up")])])
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.dashboard.py"
    path.write_text(text)
    return path


def test_returns_the_json(tmp_path: Path):
    data = load_grafanalib(write(tmp_path, GOOD))
    assert data["title"] == "Py" and data["panels"][0]["type"] == "stat"


def test_exception_names_file_and_line(tmp_path: Path):
    path = write(tmp_path, "x = 1\n\nraise RuntimeError('boom')\n")
    with pytest.raises(ConfigError) as info:
        load_grafanalib(path, "dashboards/x.dashboard.py")
    assert info.value.file == "dashboards/x.dashboard.py" and info.value.line == 3
    assert "RuntimeError: boom" in info.value.message


def test_exception_inside_a_called_function_names_the_files_line(tmp_path: Path):
    path = write(tmp_path, "from grafanalib.core import Stat\n\nStat(title=1, nope=2)\n")
    with pytest.raises(ConfigError) as info:
        load_grafanalib(path)
    assert info.value.line == 3 and "TypeError" in info.value.message


def test_syntax_error(tmp_path: Path):
    with pytest.raises(ConfigError) as info:
        load_grafanalib(write(tmp_path, "x = 1\ndef (:\n"))
    assert info.value.line == 2 and "syntax error" in info.value.message


def test_system_exit_is_caught(tmp_path: Path):
    with pytest.raises(ConfigError, match="SystemExit"):
        load_grafanalib(write(tmp_path, "import sys\nsys.exit(3)\n"))


def test_no_dashboard_variable(tmp_path: Path):
    with pytest.raises(ConfigError, match="no module-level 'dashboard'"):
        load_grafanalib(write(tmp_path, "x = 1\n"))


def test_dashboard_of_wrong_type(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"must be a grafanalib\.core\.Dashboard, got dict"):
        load_grafanalib(write(tmp_path, "dashboard = {}\n"))
