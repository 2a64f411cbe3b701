"""On-call, end to end, on loopback: a real breach fires in a real Prometheus; Alertmanager
delivers a PagerDuty Events v2 request (critical) and an Opsgenie one (warning) to a local
capture server standing in for both services; clearing the condition delivers the resolve.

The breach: the host's disk and CPU thresholds in the inventory are lowered below the current
usage, `fleetwatch build` recompiles, and Prometheus reloads. The alerts use the same small
rule form and the same per-host threshold series as the built-in pack, with short `for`.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capture import CaptureServer, Request
from commands import fleetwatch
from e2e.local_stack import free_stack_ports, stack_section
from servers import Sshd, require, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PD_KEY = "fw-test-routing-key-0123456789abcdef"
OG_KEY = "fw-test-opsgenie-key-fedcba9876543210"

RULES = """
alerts:
  - alert: OnCallDiskAlmostFull
    metric: disk
    op: ">"
    threshold: {inventory: disk}
    for: 1s
    severity: critical
    summary: A filesystem is fuller than its threshold.
    description: "{{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full."
  - alert: OnCallHighCpu
    metric: cpu
    op: ">"
    threshold: {inventory: cpu}
    for: 1s
    severity: warning
    summary: A host's CPU is busy above its threshold.
    description: "{{ $labels.instance }} CPU is {{ $value | humanizePercentage }} busy."
"""


def _alerting(capture: str, keys: Path) -> str:
    return f"""
version: 1
defaults: {{group_wait: 1s, group_interval: 1s, repeat_interval: 1h, resolve_timeout: 1m}}
receivers:
  pager:
    pagerduty: {{routing_key_file: {keys / "pagerduty.key"}, url: "{capture}/v2/enqueue"}}
  genie:
    opsgenie: {{api_key_file: {keys / "opsgenie.key"}, api_url: "{capture}/opsgenie/"}}
routing: {{critical: pager, warning: genie, info: null}}
"""


def _fleet(sshd: Sshd, ports: dict[str, int], disk: float, cpu: float) -> str:
    return f"""
version: 1
defaults:
  scrape_interval: 1s
  ssh: {{user: {sshd.user}, port: {sshd.port}, identity_file: {sshd.client_key},
        known_hosts_file: {sshd.known_hosts}, use_agent: false}}
{stack_section(ports)}deployments:
  - name: prod
    provider: loopback
    hosts:
      - name: web-0
        address: 127.0.0.1
        thresholds: {{disk: {disk}, cpu: {cpu}}}
"""


_fw = functools.partial(fleetwatch, timeout=180)


class Stack:
    def __init__(self, work: Path, sshd: Sshd) -> None:
        self.work, self.sshd = work, sshd
        self.ports = free_stack_ports()
        self.inventory = work / "fleet.yaml"
        self.build = work / "build"
        self.content = work / "content"

    def write_inventory(self, disk: float, cpu: float) -> None:
        self.inventory.write_text(_fleet(self.sshd, self.ports, disk, cpu))

    def rebuild_and_reload(self) -> float:
        run = _fw("build", "--inventory", str(self.inventory), "-o", str(self.build),
                  "--content", str(self.content), cwd=self.work)  # fmt: skip
        assert run.returncode == 0, run.stderr
        url = f"http://127.0.0.1:{self.ports['prometheus']}/-/reload"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(urllib.request.Request(url, method="POST"), timeout=10) as resp:
            assert resp.status == 200
        return time.time()


@pytest.fixture(scope="module")
def oncall(
    sshd: Sshd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, CaptureServer]]:
    require("prometheus", "prometheus-alertmanager", "promtool", "amtool")
    work = tmp_path_factory.mktemp("oncall")
    keys = work / "secrets"
    keys.mkdir()
    (keys / "pagerduty.key").write_text(PD_KEY)  # no trailing newline (Opsgenie breaks on one)
    (keys / "opsgenie.key").write_text(OG_KEY)
    with CaptureServer() as capture:
        stack = Stack(work, sshd)
        shutil.copytree(ROOT / "dashboards", stack.content / "dashboards")
        # the built-in rules too: the dashboards read their recording rules
        shutil.copytree(ROOT / "rules", stack.content / "rules")
        (stack.content / "rules" / "oncall.yaml").write_text(RULES)
        (stack.content / "alerting.yaml").write_text(_alerting(capture.url, keys))
        stack.write_inventory(disk=99.99, cpu=100)  # healthy: nothing can breach
        state = work / "state"
        run = _fw("up", "--detach", "--inventory", str(stack.inventory), "-o", str(stack.build),
                  "--content", str(stack.content), "--state-dir", str(state), cwd=work)  # fmt: skip
        try:
            assert run.returncode == 0, run.stdout + run.stderr
            yield stack, capture
        finally:
            assert _fw("down", "--state-dir", str(state), cwd=work).returncode == 0


def _events(capture: CaptureServer, path: str, action: str) -> list[Request]:
    return [
        r for r in capture.received(path)
        if isinstance(r.body, dict) and r.body.get("event_action", action) == action
    ]  # fmt: skip


def test_breach_pages_and_clear_resolves(oncall: tuple[Stack, CaptureServer]) -> None:
    stack, capture = oncall
    time.sleep(3)  # healthy scrapes and evaluations first: nothing must page
    assert capture.received() == []

    stack.write_inventory(disk=1, cpu=0.001)  # below current usage: a real breach
    breach = stack.rebuild_and_reload()
    wait_until(lambda: bool(_events(capture, "/v2/enqueue", "trigger")), 60, "the PagerDuty page")
    page = _events(capture, "/v2/enqueue", "trigger")[0]
    wait_until(lambda: bool(capture.received("/opsgenie/")), 60, "the Opsgenie alert")
    print(f"\nbreach to page: PagerDuty {page.at - breach:.1f} s")

    body: dict[str, Any] = page.body
    assert body["routing_key"] == PD_KEY  # read from the key file by Alertmanager
    assert body["dedup_key"]
    assert body["payload"]["severity"] == "critical"
    assert "OnCallDiskAlmostFull" in body["payload"]["summary"]
    hrefs = [link["href"] for link in body.get("links", [])]
    assert any(
        h.startswith("https://runbooks.example.com/alerts/OnCallDiskAlmostFull") for h in hrefs
    )
    assert any("/d/fw-server-detail" in h for h in hrefs), hrefs
    assert "OnCallHighCpu" not in json.dumps(body)  # the warning does not page

    genie = capture.received("/opsgenie/")[0]
    assert genie.headers.get("Authorization") == f"GenieKey {OG_KEY}"
    assert "OnCallHighCpu" in json.dumps(genie.body)
    assert genie.body["priority"] == "P3"
    assert genie.body["details"]["runbook_url"].endswith("/OnCallHighCpu")

    stack.write_inventory(disk=99.99, cpu=100)  # clear the condition
    cleared = stack.rebuild_and_reload()
    wait_until(lambda: bool(_events(capture, "/v2/enqueue", "resolve")), 90, "the resolve")
    resolve = _events(capture, "/v2/enqueue", "resolve")[0]
    assert resolve.body["dedup_key"] == body["dedup_key"]
    print(f"clear to resolve: {resolve.at - cleared:.1f} s")
