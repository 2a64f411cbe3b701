"""First contact, end to end: `fleetwatch up` with what `make run` uses (this machine through
the local module, the shipped dashboards, rules and alerting.yaml) on free loopback ports. Every
target is up, each receiver whose key file is missing here is named once, and an alert reaches
the local inbox that `fleetwatch notifications` lists."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerting import post_alert
from commands import fleetwatch
from e2e.local_stack import free_stack_ports, stack_section
from servers import require, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


_fw = functools.partial(fleetwatch, timeout=180)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    require("prometheus", "prometheus-alertmanager", "promtool", "amtool")
    work = tmp_path_factory.mktemp("first-run")
    ports = free_stack_ports()
    content = work / "content"
    for part in ("dashboards", "rules"):
        shutil.copytree(ROOT / part, content / part)
    # the shipped routing policy, with notifications sent after 1 s instead of 30 s
    shipped = (ROOT / "alerting.yaml").read_text()
    (content / "alerting.yaml").write_text(
        shipped.replace("\nversion: 1\n", "\nversion: 1\ndefaults: {group_wait: 1s}\n", 1)
    )
    # the embedded default inventory (this machine, local module), on free ports
    (work / "fleet.yaml").write_text(
        f"""version: 1
{stack_section(ports)}deployments:
  - name: local
    provider: local
    hosts:
      - {{name: localhost, address: localhost, modules: [local]}}
"""
    )
    state, build = work / "state", work / "out"
    run = _fw("up", "--detach", "--inventory", "fleet.yaml", "-o", str(build), "--content",
              str(content), "--state-dir", str(state), cwd=work)  # fmt: skip
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        yield {"run": run, "ports": ports, "state": state, "work": work, "build": build}
    finally:
        assert _fw("down", "--state-dir", str(state), cwd=work).returncode == 0


def test_every_target_up_and_what_up_says(first_run: dict[str, object]) -> None:
    run = first_run["run"]
    assert isinstance(run, subprocess.CompletedProcess)
    out, err = run.stdout, run.stderr
    for name in ("exporter", "inbox", "alertmanager", "prometheus"):
        assert f"  {name} " in out, out
    summary = next(line for line in out.splitlines() if " up, " in line and "down" in line)
    assert summary.endswith(" up, 0 down") and not summary.startswith("0 up"), out  # all up
    assert f"provisioned from {first_run['build']}/" in out  # -o DIR, not build/
    assert "delivered to the local inbox" in out
    warned = sorted(line.split("'")[1] for line in err.splitlines() if "cannot notify" in line)
    assert warned == ["database-opsgenie", "database-pagerduty", "oncall-pagerduty",
                      "ops-opsgenie"], err  # fmt: skip
    assert "Traceback" not in err


def test_an_alert_reaches_the_local_inbox(first_run: dict[str, object]) -> None:
    ports, state, work = first_run["ports"], first_run["state"], first_run["work"]
    assert isinstance(ports, dict) and isinstance(state, Path) and isinstance(work, Path)
    post_alert(
        f"http://127.0.0.1:{ports['alertmanager']}",
        {"alertname": "FirstContact", "severity": "info", "instance": "localhost"},
        summary="The local inbox works.",
    )

    def listed() -> bool:
        shown = _fw("notifications", "--state-dir", str(state), cwd=work)
        return shown.returncode == 0 and "FirstContact" in shown.stdout

    wait_until(listed, 30, "the alert in `fleetwatch notifications`")
    shown = _fw("notifications", "--state-dir", str(state), cwd=work).stdout
    row = next(line for line in shown.splitlines() if "FirstContact" in line)
    assert row.split()[1:4] == ["local-inbox", "firing", "FirstContact"]
    assert row.endswith("The local inbox works.")
