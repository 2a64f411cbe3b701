"""``scripts/install-system-deps.sh --run``: what `make run` installs first. It costs nothing when
the four binaries are there (on PATH or named by the FLEETWATCH_* variables) and says in one line
what to do where apt cannot be used. The apt path itself runs in every fresh-clone `make run`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps.sh"
TOOLS = ("FLEETWATCH_PROMETHEUS", "FLEETWATCH_PROMTOOL", "FLEETWATCH_ALERTMANAGER",
         "FLEETWATCH_AMTOOL")  # fmt: skip


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The script with a PATH of only what it needs to decide (no apt-get, no binaries)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("bash", "dirname", "id"):
        link = bin_dir / name
        if not link.exists():
            found = shutil.which(name)
            assert found, name
            link.symlink_to(found)
    return subprocess.run(
        [str(bin_dir / "bash"), str(SCRIPT), "--run"],
        env={"PATH": str(bin_dir), **env}, capture_output=True, text=True, timeout=30,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _stub(path: Path) -> str:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def test_nothing_to_do_when_every_binary_is_named(tmp_path: Path) -> None:
    env = {var: _stub(tmp_path / var.lower()) for var in TOOLS}
    run = _run(tmp_path, **env)
    assert run.returncode == 0, run.stderr
    assert (
        run.stdout
        == "install-system-deps: ok: prometheus, promtool, alertmanager, amtool present\n"
    )


def test_without_apt_one_line_says_what_to_install_and_how_to_pass_paths(tmp_path: Path) -> None:
    env = {"FLEETWATCH_PROMETHEUS": _stub(tmp_path / "prom"),
           "FLEETWATCH_PROMTOOL": _stub(tmp_path / "promtool")}  # fmt: skip
    run = _run(tmp_path, **env)
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert "alertmanager amtool missing and apt cannot be used here" in line
    assert "apt-get install prometheus-alertmanager" in line
    assert line.endswith(
        "make run FLEETWATCH_ALERTMANAGER=/path/to/alertmanager FLEETWATCH_AMTOOL=/path/to/amtool"
    )


def test_a_named_binary_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    env = {var: _stub(tmp_path / var.lower()) for var in TOOLS}
    env["FLEETWATCH_AMTOOL"] = str(tmp_path / "missing")
    run = _run(tmp_path, **env)
    assert run.returncode == 1
    assert run.stderr == (
        f"install-system-deps: ERROR: $FLEETWATCH_AMTOOL={tmp_path}/missing is not an "
        "executable file\n"
    )


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("prometheus") is None,
                    reason="needs root and an installed Prometheus")  # fmt: skip
def test_installed_binaries_on_path_cost_nothing() -> None:
    run = subprocess.run(["bash", str(SCRIPT), "--run"], capture_output=True, text=True,
                         timeout=30, stdin=subprocess.DEVNULL)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "ok:" in run.stdout
