"""End to end: real redis-server, PostgreSQL and ganache (and, where they can run, a dockerd with
Compose containers and a Mosquitto broker), CometBFT and health-endpoint stand-ins, declared as
services of an inventory; `fleetwatch build` on the repository's content; the fleetwatch
exporter and a real Prometheus on the build's config and rules.  Then every panel query of every
dashboard in dashboards/services/ returns data, with the template variables resolved as Grafana
would.  Every wait is bounded (servers.wait_until / Prometheus.wait_for).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.service_stack import ServiceStack, panel_data, prerequisites

pytestmark = pytest.mark.e2e

DASHBOARDS = ["databases", "health-grid", "chain-nodes", "container-hosts"]
_RANGE = {"m": 60, "h": 3600, "d": 86400}


def _span(dashboard: dict[str, Any]) -> int:
    start = dashboard.get("time", {}).get("from", "now-1h")
    m = re.fullmatch(r"now-(\d+)([mhd])", str(start))
    return int(m.group(1)) * _RANGE[m.group(2)] if m else 3600


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    prerequisites()
    began = time.monotonic()
    services = ServiceStack(tmp_path_factory.mktemp("services"))
    try:
        services.start()
        prom, names = services.prom, services.services()
        # every target scraped a few times (rate needs two samples in its window)
        prom.wait_for(
            'count_over_time(up{job!="fleetwatch"}[1m]) >= 4',
            lambda r: {s["metric"]["instance"] for s in r} >= names | {"here"},
            timeout=45,
        )
        # the build's recording rules evaluated: a health state for every service
        prom.wait_for(
            "instance:service_health:state",
            lambda r: {s["metric"]["instance"] for s in r} >= names,
            timeout=20,
        )
        if services.dockerd is not None:
            # the worker has been OOM-killed and restarted at least once since the first scrape
            prom.wait_for(
                'increase(fleetwatch_container_restarts_total{name="shop-worker-1"}[1m]) > 0',
                timeout=20,
            )
            # and the stats of the busy container reached Prometheus twice (rate needs two)
            prom.wait_for(
                'count_over_time(container_cpu_usage_seconds_total{name="shop-web-1"}[1m]) >= 2',
                timeout=30,
            )
        services.timings["ready"] = time.monotonic() - began
        print("\nstack: " + ", ".join(f"{k} {v:.1f}s" for k, v in services.timings.items()))
        yield services
    finally:
        services.close()


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_query_returns_data(stack: ServiceStack, name: str) -> None:
    if name == "container-hosts" and stack.dockerd is None:
        pytest.skip("no dockerd here (needs root, dockerd, runc, busybox): no docker target")
    path = stack.build / "grafana" / "dashboards" / "services" / f"{name}.json"
    dashboard = json.loads(path.read_text())
    data = panel_data(stack.prom, dashboard, _span(dashboard))
    print(f"\n{data.line(name)} ({data.panels} panels)")
    assert data.panels >= 10
    assert not data.empty, "panel queries without data:\n" + "\n".join(data.empty)


def test_every_service_dashboard_is_covered(stack: ServiceStack) -> None:
    built = {p.stem for p in stack.dashboards("services")}
    assert built == set(DASHBOARDS), built


def test_health_grid_states(stack: ServiceStack) -> None:
    """Every service has a state; nothing is down; the fresh database, cache and health
    endpoints are healthy (2); the Docker host with an OOM-looping container is degraded (1)."""
    states = {
        s["metric"]["instance"]: float(s["value"][1])
        for s in stack.prom.query("instance:service_health:state")
    }
    assert set(states) >= stack.services(), states
    assert all(v in (1.0, 2.0) for v in states.values()), states
    for healthy in ("db", "cache", "api", "api-tls", *(["broker"] if stack.mosquitto else [])):
        assert states[healthy] == 2.0, (healthy, states)
    if stack.dockerd is not None and _restarts(stack) > 2:
        # the state recorded at the rules' last evaluation may predate the restart just seen
        stack.prom.wait_for('instance:service_health:state{instance="dock"} == 1', timeout=10)


def _restarts(stack: ServiceStack) -> float:
    found = stack.prom.query("max(increase(fleetwatch_container_restarts_total[15m]))")
    return float(found[0]["value"][1]) if found else 0.0


def test_chain_lag_matches_the_stand_in(stack: ServiceStack) -> None:
    """val-2 trails val-1 by 3 blocks: the behind-the-fleet expression of the pack says so."""
    lag = stack.prom.wait_for(
        "max by (chain_id) (cometbft_consensus_latest_block_height)"
        " - on (chain_id) group_right () cometbft_consensus_latest_block_height",
        lambda r: len(r) == 2,
        timeout=10,
    )
    by_node = {s["metric"]["instance"]: float(s["value"][1]) for s in lag}
    # the two nodes are probed at slightly different moments: the head may move in between
    assert by_node["val-1"] <= 1 and 2 <= by_node["val-2"] <= 4, by_node
