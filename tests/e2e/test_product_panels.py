"""End to end, the product example content on a live stack: the product's three services
(tests/apps/product_app.py: API, provider daemon, inference) and two CometBFT nodes
(tests/apps/cometbft_node.py, a chain no real node can run here) declared as ``apps:`` of an
inventory with their catalogs; ``fleetwatch build --content examples/product``; a real
Prometheus on the build's config and rules.  Then every panel query of the product dashboard,
of the chain-node dashboard and of the three SLO dashboards the burn-rate generator makes
returns data (variables resolved as Grafana would), and one alert per dashboard fires on the
live stack once its stand-in goes bad:

- product: EscrowSettlementsFailing (every settlement fails; `for: 1m`);
- chain-node: ChainConsensusRoundsHigh (the chain halts: the height stops and the round
  climbs; `for: 1m`, where ChainConsensusStalled would need ten minutes);
- slo/*: each SLO's ErrorBudgetBurn (every inference request times out, every lease takes
  45-100 s, every verification errors; burn alerts have no `for`).

Every wait is bounded (servers.wait_until / Prometheus.wait_for).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.service_stack import panel_data
from servers import (
    LoopbackServer,
    Prometheus,
    StandInApp,
    free_port,
    require,
    wait_until,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "examples" / "product"
CHAIN_ID = "product-e2e-1"
ROLES = {"product-api": "api", "provider-1": "provider", "inference": "inference"}
NODES = ("val-1", "val-2")
FAULTS = {
    "product-api": ["settlements", "verify-errors"],
    "provider-1": ["slow-leases"],
    "inference": ["timeouts"],
    **{node: ["halt"] for node in NODES},
}
DASHBOARDS = {
    "product": "fleetwatch/product.json",
    "chain-node": "fleetwatch/chain-node.json",
    "slo-inference-availability": "slo/inference-availability.json",
    "slo-lease-latency": "slo/lease-latency.json",
    "slo-verification-availability": "slo/verification-availability.json",
}
#: per dashboard, the alert that must fire live and the labels it must carry
LIVE_ALERTS = {
    "product": ("EscrowSettlementsFailing", {"instance": "product-api"}),
    "chain-node": ("ChainConsensusRoundsHigh", {"chain_id": CHAIN_ID}),
    "slo-inference-availability": ("InferenceAvailabilityErrorBudgetBurn", {}),
    "slo-lease-latency": ("LeaseLatencyErrorBudgetBurn", {}),
    "slo-verification-availability": ("VerificationAvailabilityErrorBudgetBurn", {}),
}


class App(StandInApp):
    """One stand-in program of tests/apps on a free loopback port, with faults to switch on."""

    def __init__(self, name: str, script: str, *args: str) -> None:
        super().__init__(script, *args, name=name)

    def fault(self, name: str) -> None:
        req = urllib.request.Request(f"{self.url}/-/fault?name={name}", method="POST")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200, (self.name, name)


def _fleet(prom_port: int, apps: dict[str, App]) -> str:
    entries = []
    for name, app in apps.items():
        catalog = "" if name in NODES else ", catalog: catalogs/product.yaml"
        entries.append(f'      - {{name: {name}, url: "{app.url}/metrics"{catalog}}}')
    listed = "\n".join(entries)
    return f"""version: 1
defaults: {{scrape_interval: 1s}}
stack:
  exporter: "127.0.0.1:{free_port()}"
  prometheus_url: "http://127.0.0.1:{prom_port}"
deployments:
  - name: chain
    provider: loopback
    apps:
{listed}
"""


@dataclass
class Stack:
    build: Path
    prom: Prometheus
    apps: dict[str, App]

    def dashboard(self, name: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(
            (self.build / "grafana" / "dashboards" / DASHBOARDS[name]).read_text()
        )
        return doc


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require("prometheus", "promtool")
    work = tmp_path_factory.mktemp("product")
    (work / "catalogs").mkdir()
    shutil.copy(ROOT / "exporters" / "catalogs" / "product.yaml", work / "catalogs")
    apps = {name: App(name, "product_app.py", "--role", role) for name, role in ROLES.items()}
    apps |= {n: App(n, "cometbft_node.py", "--chain-id", CHAIN_ID) for n in NODES}
    prom_port = free_port()
    started: list[LoopbackServer] = []
    try:
        for app in apps.values():
            started.append(app.start())
        (work / "fleet.yaml").write_text(_fleet(prom_port, apps))
        build = work / "build"
        run = subprocess.run(
            [sys.executable, "-m", "fleetwatch", "build", "--inventory", "fleet.yaml",
             "--content", str(CONTENT), "-o", str(build)],
            cwd=work, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        config = (build / "prometheus" / "prometheus.yml").read_text()
        prom = Prometheus(config, port=prom_port, workdir=build / "prometheus")
        started.append(prom.start())
        # every app scraped a few times (rate over the 1m rate interval needs two samples)
        prom.wait_for(
            'count_over_time(up{job=~"app_.+"}[1m]) >= 4',
            lambda r: {s["metric"]["instance"] for s in r} == set(apps),
            timeout=45,
        )
        # and the SLOs' recording rules evaluated on them
        prom.wait_for(
            "slo:period_error_budget_remaining:ratio",
            lambda r: len(r) == 3,
            timeout=20,
        )
        yield Stack(build, prom, apps)
    finally:
        for server in reversed(started):
            server.stop()


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_query_returns_data(stack: Stack, name: str) -> None:
    data = panel_data(stack.prom, stack.dashboard(name))
    print("\n" + data.line(name))
    assert data.queried >= data.panels >= 8, (data.queried, data.panels)
    assert not data.empty, "panel queries without data:\n" + "\n".join(data.empty)


def _firing(prom: Prometheus) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for alert in prom.alerts():
        if alert["state"] == "firing":
            out.setdefault(alert["labels"]["alertname"], []).append(alert["labels"])
    return out


def test_one_alert_per_dashboard_fires_when_its_stand_in_goes_bad(stack: Stack) -> None:
    names = {alert for alert, _ in LIVE_ALERTS.values()}
    healthy = {a["labels"]["alertname"] for a in stack.prom.alerts()}
    assert not healthy & names, f"alerting before any fault: {healthy & names}"
    began = time.monotonic()
    for app, faults in FAULTS.items():
        for fault in faults:
            stack.apps[app].fault(fault)

    def all_fire() -> bool:
        firing = _firing(stack.prom)
        return all(
            any(labels.items() <= got.items() for got in firing.get(alert, []))
            for alert, labels in LIVE_ALERTS.values()
        )

    # the `for: 1m` alerts: about a minute and a half on a loaded machine
    wait_until(all_fire, 150, "one alert per dashboard firing", server=stack.prom)
    firing = _firing(stack.prom)
    took = time.monotonic() - began
    print(f"\nall {len(LIVE_ALERTS)} alerts firing {took:.0f} s after the faults")
    for dashboard, (alert, _) in LIVE_ALERTS.items():
        got = firing[alert]
        print(f"{dashboard}: {alert} x{len(got)}")
        assert all(g["severity"] == "critical" for g in got if "slo" not in g), got
        if alert.endswith("ErrorBudgetBurn"):
            # everything failing burns far above every factor: the fast page pair at least
            # (on a stack minutes old, rate over 1d / 3d is the few events over the whole
            # window: the ticket pairs' traffic guard holds back the low-traffic lease SLO)
            fast = {"long_window": "1h", "short_window": "5m", "severity": "critical"}
            assert any(fast.items() <= g.items() for g in got), got
    assert {a["instance"] for a in firing["ChainConsensusRoundsHigh"]} <= set(NODES)
