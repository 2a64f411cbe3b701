"""End to end: the product example's operator view and HTTP service dashboard on live data.

A real PostgreSQL with the tables the example inventory's custom SQL reads (tenants, devices),
a real Mosquitto broker, and the two stand-in applications (tests/apps/ingest_app.py and
http_service_app.py, serving exactly the names of exporters/catalogs/ingest.yaml and
http-service.yaml) are declared in examples/product/fleet.yaml itself (its queries and app
catalogs, the addresses pointed at the loopback servers); `fleetwatch build --content
examples/product` on it validates with 0 findings; the fleetwatch exporter and a real Prometheus
run on the build.  Then every panel query of operator.yaml and http-service.yaml returns data
(variables resolved as Grafana would, e2e/grafana_sim.py), and one alert per dashboard fires on
the live stack once the apps are switched to failing (GET /mode/failing).

The alerts' time bound: IngestAuthFailureBurst runs as built (`for: 1m`, rate over 5m, which a
burst of 150/s crosses within seconds); HttpServiceHighErrorRatio's `for: 10m` is cut to 5s in
this test's copy of the built rule file (its expression is untouched; the promtool tests of
the pack hold the 10m).  Every wait is bounded (servers.wait_until / Prometheus.wait_for).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from commands import fleetwatch
from e2e.service_stack import panel_data
from exporters.services.mqtt_fixtures import Mosquitto
from servers import (
    FleetwatchExporter,
    LoopbackServer,
    Prometheus,
    StandInApp,
    free_port,
    http_get,
    require,
)
from service_servers import PG_BIN, Postgres

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "product"
PRODUCT_CATALOG = ROOT / "exporters" / "catalogs" / "product.yaml"
DASHBOARDS = {"operator": 20, "http-service": 14}
"""The dashboards of this test and the fewest panel queries each must have."""
LIVE_ALERTS = {
    "operator": ("IngestAuthFailureBurst", "platform-ingest"),
    "http-service": ("HttpServiceHighErrorRatio", "platform-api"),
}
"""One alert per dashboard that fires on the live stack, and the app it fires for."""
PENDING = {"IngestWriteLatencyHigh", "AlertDeliveriesFailing", "IngestQuarantineGrowing"}
"""Alerts whose expression the failing apps also make true (their `for` is 10-15 minutes:
the test sees them pending)."""
SHORTENED_FOR = {"HttpServiceHighErrorRatio": "5s"}
ALERT_TIMEOUT = 150.0
"""Seconds for both alerts to fire: 5 min rate windows, `for: 1m`, 1 s evaluations, a slow
shared machine."""


class App(StandInApp):
    """One of tests/apps/*_app.py on a free loopback port, its mode switched over HTTP."""

    def mode(self, mode: str) -> None:
        status, body = http_get(f"{self.url}/mode/{mode}")
        assert status == 200, body


def _seed(postgres: Postgres) -> None:
    """The tables the example's custom queries read: 6 tenants (3 active), 7 devices (2 stale)."""
    postgres.psql("CREATE DATABASE platform")
    postgres.psql(
        "CREATE TABLE tenants (id serial PRIMARY KEY, status text NOT NULL);"
        "INSERT INTO tenants (status) VALUES"
        " ('active'), ('active'), ('active'), ('trial'), ('trial'), ('suspended');"
        "CREATE TABLE devices (id serial PRIMARY KEY, last_seen timestamptz NOT NULL);"
        "INSERT INTO devices (last_seen) SELECT now() FROM generate_series(1, 5);"
        "INSERT INTO devices (last_seen)"
        " VALUES (now() - interval '1 hour'), (now() - interval '2 days');",
        db="platform",
    )  # fmt: skip


def inventory(ports: dict[str, int], servers: dict[str, LoopbackServer]) -> str:
    """examples/product/fleet.yaml with its addresses on the loopback servers, scraped each
    second; its queries and app catalogs as they are (catalog paths made absolute)."""
    doc = yaml.safe_load((EXAMPLE / "fleet.yaml").read_text())
    doc["defaults"]["scrape_interval"] = "1s"
    doc["stack"] = {
        "exporter": f"127.0.0.1:{ports['exporter']}",
        "prometheus_url": f"http://127.0.0.1:{ports['prometheus']}",
    }
    (deployment,) = doc["deployments"]
    for service in deployment["services"]:
        service["address"] = servers[service["name"]].address
        if service["module"] == "postgres":
            service["params"] = {
                k: v for k, v in service["params"].items() if not k.startswith("password")
            } | {"user": "postgres"}
    # the operator view's apps only: the product's are tests/e2e/test_product_panels.py's
    deployment["apps"] = [app for app in deployment["apps"] if app["name"] in servers]
    for app in deployment["apps"]:
        app["url"] = f"{servers[app['name']].url}/metrics"
        app["catalog"] = str((EXAMPLE / app["catalog"]).resolve())
    return yaml.safe_dump(doc, sort_keys=False)


_fw = fleetwatch


def _shorten_for(rule_file: Path, alerts: dict[str, str]) -> None:
    doc = yaml.safe_load(rule_file.read_text())
    found = set()
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") in alerts:
                rule["for"] = alerts[rule["alert"]]
                found.add(rule["alert"])
    assert found == set(alerts), found
    rule_file.write_text(yaml.safe_dump(doc, sort_keys=False))


@dataclass
class Stack:
    build: Path
    prom: Prometheus
    apps: dict[str, App]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require("prometheus", "promtool", "mosquitto", "mosquitto_sub", "openssl")
    require("runuser", str(PG_BIN / "initdb"), str(PG_BIN / "pg_isready"), users=["postgres"])
    work = tmp_path_factory.mktemp("operator")
    ports = {"exporter": free_port(), "prometheus": free_port()}
    began = time.monotonic()
    postgres, broker = Postgres(), Mosquitto()
    ingest, api = App("ingest_app.py"), App("http_service_app.py")
    started: list[LoopbackServer] = []
    try:
        for server in (ingest, api, broker):
            server.start()
            started.append(server)
        started.append(postgres)
        postgres.start_db()
        _seed(postgres)
        servers = {
            "platform-db": postgres,
            "platform-mqtt": broker,
            "platform-ingest": ingest,
            "platform-api": api,
        }
        text = inventory(ports, servers)
        (work / "fleet.yaml").write_text(text)
        build = work / "build"
        run = _fw("build", "--inventory", "fleet.yaml", "--content", str(EXAMPLE), "-o",
                  str(build), cwd=work)  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        # strict validation of the build: the inventory declares every name (the product
        # pack's come from its catalog, as its apps are left out here)
        check = _fw("validate", "--format", "json", "--catalog", str(PRODUCT_CATALOG),
                    str(build), cwd=work)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        assert json.loads(check.stdout)["findings"] == []
        _shorten_for(build / "prometheus" / "rules" / "http-service.yml", SHORTENED_FOR)
        exporter = FleetwatchExporter(text, port=ports["exporter"], workdir=work / "exporter")
        started.append(exporter)
        exporter.start()
        config = (build / "prometheus" / "prometheus.yml").read_text()
        prom = Prometheus(config, port=ports["prometheus"], workdir=build / "prometheus")
        started.append(prom)
        prom.start()
        # every target scraped a few times (rate needs two samples in its window), the custom
        # queries and the broker's $SYS counters among the samples
        prom.wait_for(
            'count_over_time(up{job!="fleetwatch"}[1m]) >= 4',
            lambda r: {s["metric"]["instance"] for s in r} >= set(servers),
            timeout=60,
        )
        for expr in ("tenants_total", "devices_stale", "broker_messages_received"):
            prom.wait_for(f"count_over_time({expr}[1m]) >= 2", timeout=30)
        print(f"\nstack ready in {time.monotonic() - began:.1f}s")
        yield Stack(build, prom, {"platform-ingest": ingest, "platform-api": api})
    finally:
        for server in reversed(started):
            server.close()


CATALOGS = {
    "platform-ingest": ROOT / "exporters" / "catalogs" / "ingest.yaml",
    "platform-api": ROOT / "exporters" / "catalogs" / "http-service.yaml",
}


@pytest.mark.parametrize("app", CATALOGS)
def test_apps_serve_exactly_their_catalog(stack: Stack, app: str) -> None:
    """The stand-ins serve the catalog's names and types, nothing more (no _created)."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = http_get(f"{stack.apps[app].url}/metrics")
    assert status == 200
    families = list(text_string_to_metric_families(body.decode()))
    served = {(f.name + "_total" if f.type == "counter" else f.name, f.type) for f in families}
    catalog = yaml.safe_load(CATALOGS[app].read_text())["metrics"]
    assert served == {(m["name"], m["type"]) for m in catalog}
    assert not [s.name for f in families for s in f.samples if s.name.endswith("_created")]


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_query_returns_data(stack: Stack, name: str) -> None:
    (path,) = (stack.build / "grafana" / "dashboards").rglob(f"{name}.json")
    data = panel_data(stack.prom, json.loads(path.read_text()))
    print("\n" + data.line(name))
    assert data.queried >= DASHBOARDS[name]
    assert not data.empty, "panel queries without data:\n" + "\n".join(data.empty)


def _pack_alerts(stack: Stack) -> set[str]:
    names = set()
    for pack in LIVE_ALERTS:
        doc = yaml.safe_load((stack.build / "prometheus" / "rules" / f"{pack}.yml").read_text())
        names |= {r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    return names


def _active(stack: Stack, state: str) -> set[str]:
    return {s["metric"]["alertname"] for s in stack.prom.query(f'ALERTS{{alertstate="{state}"}}')}


def test_one_alert_per_dashboard_fires_on_the_live_stack(stack: Stack) -> None:
    # healthy apps (the stack has run for a minute or more): no alert of either pack is even
    # pending, so what fires below is the failing mode's doing
    pack = _pack_alerts(stack)
    assert pack >= {alert for alert, _ in LIVE_ALERTS.values()} | PENDING
    assert not (_active(stack, "pending") | _active(stack, "firing")) & pack
    for _, instance in LIVE_ALERTS.values():
        stack.apps[instance].mode("failing")
    began = time.monotonic()
    try:
        for name, (alert, instance) in LIVE_ALERTS.items():
            left = ALERT_TIMEOUT - (time.monotonic() - began)
            firing = stack.prom.wait_for(
                f'ALERTS{{alertname="{alert}", alertstate="firing"}}', timeout=max(left, 1)
            )
            labels: dict[str, Any] = firing[0]["metric"]
            assert labels["instance"] == instance, labels
            assert labels["job"] == f"app_{instance}" and labels["deployment"] == "platform"
            print(f"\n{name}: {alert} firing after {time.monotonic() - began:.0f}s")
        stack.prom.wait_for(
            'ALERTS{alertstate="pending"}',
            lambda r: {s["metric"]["alertname"] for s in r} >= PENDING,
            timeout=max(ALERT_TIMEOUT - (time.monotonic() - began), 1),
        )
        assert "IngestStalled" not in _active(stack, "pending") | _active(stack, "firing")
    finally:
        for _, instance in LIVE_ALERTS.values():
            stack.apps[instance].mode("healthy")
