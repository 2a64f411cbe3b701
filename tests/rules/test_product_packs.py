"""The product example content (examples/product/: dashboards, rules, the example inventory
fleet.yaml, and the app catalogs in exporters/catalogs/): it builds with `fleetwatch build
--content examples/product`, validates strictly with no finding given the apps' catalogs and the
inventory's custom SQL types, every alert fires in its generated test, and the cases below
hold: silent on the healthy side, and the extra firing cases an alert must get right; the SLOs'
error ratios computed from raw series.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from commands import fleetwatch

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "examples" / "product"
CATALOG = ROOT / "exporters" / "catalogs" / "http-service.yaml"
INGEST_CATALOG = ROOT / "exporters" / "catalogs" / "ingest.yaml"
PRODUCT_CATALOG = ROOT / "exporters" / "catalogs" / "product.yaml"
INVENTORY = CONTENT / "fleet.yaml"
PACKS = ("chain-node", "http-service", "operator", "product")
SQL_METRICS = {"tenants_total", "devices_online", "devices_stale"}
"""The example inventory's custom SQL gauges (only the inventory declares them)."""


def t(instance: str, job: str, maintenance: bool = False, **extra: str) -> str:
    """Target labels as the build's scrape jobs give them, plus ``extra``."""
    labels = {
        "instance": instance,
        "job": job,
        "deployment": "prod",
        "provider": "aws",
        "maintenance": "true" if maintenance else "false",
        **extra,
    }
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def with_labels(target: str, **extra: str) -> str:
    return target[:-1] + "".join(f', {k}="{v}"' for k, v in extra.items()) + "}"


# --- chain node ------------------------------------------------------------------------------

NODE = "cometbft-node"
VAL1, VAL2 = t("val-1", NODE, chain_id="hub-1"), t("val-2", NODE, chain_id="hub-1")
VAL2_OFF = t("val-2", NODE, True, chain_id="hub-1")
VAL3 = t("val-3", NODE, chain_id="hub-2")
HEIGHT, ROUNDS = "cometbft_consensus_height", "cometbft_consensus_rounds"
POWER, MISSING = (
    "cometbft_consensus_validators_power",
    "cometbft_consensus_missing_validators_power",
)


def node_labels(instance: str) -> dict[str, str]:
    """The labels of a per-node chain alert on hub-1 (the target labels and chain_id)."""
    return {"instance": instance, "job": NODE, "deployment": "prod", "provider": "aws",
            "maintenance": "false", "chain_id": "hub-1"}  # fmt: skip


def power(target: str, total: str, missing: str | None) -> list[tuple[str, str]]:
    series = [(f"{POWER}{target}", total)]
    return series + ([(f"{MISSING}{target}", missing)] if missing is not None else [])


# --- HTTP service ----------------------------------------------------------------------------

APP = "checkout"
API = t("api-1", APP)
API_OFF = t("api-1", APP, True)


def requests(target: str, per_min: dict[str, int], route: str = "/orders") -> list[tuple[str, str]]:
    """http_requests_total per status code, ``per_min`` requests a minute each."""
    return [
        (
            "http_requests_total" + with_labels(target, code=code, method="GET", route=route),
            f"0+{n}x40",
        )
        for code, n in per_min.items()
    ]


def latency(target: str, per_min: dict[str, int], route: str = "/orders") -> list[tuple[str, str]]:
    """Cumulative bucket counts: ``per_min[le]`` requests a minute at or below ``le``."""
    return [
        (
            "http_request_duration_seconds_bucket"
            + with_labels(target, le=le, method="GET", route=route),
            f"0+{n}x40",
        )
        for le, n in per_min.items()
    ]


def queue(target: str, values: str, name: str = "emails") -> list[tuple[str, str]]:
    return [("app_task_queue_depth" + with_labels(target, queue=name), values)]


# --- ingest operator view --------------------------------------------------------------------

INGEST = "ingest"
ING, ING2, ING_OFF = t("ingest-1", INGEST), t("ingest-2", INGEST), t("ingest-1", INGEST, True)
ING_LABELS = {"deployment": "prod", "job": INGEST, "instance": "ingest-1"}


def counter(name: str, target: str, values: str, **extra: str) -> list[tuple[str, str]]:
    return [(name + (with_labels(target, **extra) if extra else target), values)]


def messages(target: str, values: str, tenant: str = "acme") -> list[tuple[str, str]]:
    return counter("ingest_messages_total", target, values, tenant=tenant)


def writes(target: str, per_min: dict[str, int]) -> list[tuple[str, str]]:
    """ingest_write_duration_seconds buckets: ``per_min[le]`` writes a minute at or below le."""
    return [
        ("ingest_write_duration_seconds_bucket" + with_labels(target, le=le), f"0+{n}x40")
        for le, n in per_min.items()
    ]


def deliveries(
    target: str, per_min: dict[str, int], channel: str = "webhook"
) -> list[tuple[str, str]]:
    """alert_deliveries_total per result, ``per_min`` a minute each."""
    return [
        counter("alert_deliveries_total", target, f"0+{n}x40", channel=channel, result=result)[0]
        for result, n in per_min.items()
    ]


# --- the product ------------------------------------------------------------------------------

INFER, INFER_OFF = t("infer-1", "app_inference"), t("infer-1", "app_inference", True)
PAPI, PAPI_OFF = t("api-1", "app_product-api"), t("api-1", "app_product-api", True)
PROV1, PROV2 = t("provider-1", "app_provider"), t("provider-2", "app_provider")
PROV1_OFF = t("provider-1", "app_provider", True)


def inference(target: str, model: str, per_min: int, timeouts: int) -> list[tuple[str, str]]:
    return [
        (f"inference_requests_total{with_labels(target, model=model)}", f"0+{per_min}x40"),
        (f"inference_timeouts_total{with_labels(target, model=model)}", f"0+{timeouts}x40"),
    ]


def settlements(target: str, ok: int, failed: int) -> list[tuple[str, str]]:
    return [
        (f"escrow_settlements_total{with_labels(target, result='success')}", f"0+{ok}x40"),
        (f"escrow_settlements_total{with_labels(target, result='failure')}", f"0+{failed}x40"),
    ]


def bids(target: str, values: str) -> list[tuple[str, str]]:
    return [(f"provider_bids_total{target}", values)]


def orders(values: str) -> list[tuple[str, str]]:
    return [(f"market_orders_total{PAPI}", values)]


STALLS = "0+10x5 50x35"
"""Bids until minute 5, none after."""

Case = tuple[str, list[tuple[str, str]], str, list[dict[str, str]]]
# alertname -> [(case, input series, eval time, labels of the alerts expected: [] = silent)]
CASES: dict[str, list[Case]] = {
    "ChainConsensusStalled": [
        ("producing blocks", [(f"{HEIGHT}{VAL1}", "100+1x40")], "30m", []),
        ("a three-minute gap", [(f"{HEIGHT}{VAL1}", "100+10x20 300x3 310+10x20")], "26m", []),
        (
            "stalled 7 minutes is shorter than for",
            [(f"{HEIGHT}{VAL1}", "100+1x20 120x20")],
            "27m",
            [],
        ),
        ("in maintenance", [(f"{HEIGHT}{VAL2_OFF}", "100x40")], "30m", []),
    ],
    "ChainVotingPowerMissing": [
        ("everyone signs", power(VAL1, "100x40", "0x40"), "30m", []),
        ("30 % missing", power(VAL1, "100x40", "30x40"), "30m", []),
        ("an empty validator set is no division by zero", power(VAL1, "0x40", "0x40"), "30m", []),
        ("no missing-power series", power(VAL1, "100x40", None), "30m", []),
        ("in maintenance", power(VAL2_OFF, "100x40", "100x40"), "30m", []),
        (
            "exactly a third fires",
            power(VAL1, "3x40", "1x40"),
            "30m",
            [{"deployment": "prod", "chain_id": "hub-1"}],
        ),
        (
            "one alert per chain, whatever the number of nodes",
            power(VAL1, "100x40", "100x40")
            + power(VAL2, "100x40", "50x40")
            + power(VAL3, "100x40", "10x40"),
            "30m",
            [{"deployment": "prod", "chain_id": "hub-1"}],
        ),
    ],
    "ChainConsensusBehindFleet": [
        (
            "5 blocks behind",
            [(f"{HEIGHT}{VAL1}", "1000+10x40"), (f"{HEIGHT}{VAL2}", "995+10x40")],
            "30m",
            [],
        ),
        (
            "another chain is not the fleet",
            [(f"{HEIGHT}{VAL1}", "1000+10x40"), (f"{HEIGHT}{VAL3}", "9000+10x40")],
            "30m",
            [],
        ),
        (
            "in maintenance",
            [(f"{HEIGHT}{VAL1}", "1000+10x40"), (f"{HEIGHT}{VAL2_OFF}", "900x40")],
            "30m",
            [],
        ),
    ],
    "ChainConsensusRoundsHigh": [
        ("round 1 now and then", [(f"{ROUNDS}{VAL1}", "0x10 1 0x10 1 0x17")], "30m", []),
        ("round 2 held is below 3", [(ROUNDS + VAL1, "2x40")], "30m", []),
        ("in maintenance", [(ROUNDS + VAL2_OFF, "9x40")], "30m", []),
        (
            "every stuck node of a halted chain",
            [
                (ROUNDS + VAL1, "0x10 3+1x30"),
                (ROUNDS + VAL2, "0x10 3+1x30"),
                (ROUNDS + VAL3, "0x40"),
            ],
            "30m",
            [node_labels("val-1"), node_labels("val-2")],
        ),
    ],
    "InferenceTimeoutsHigh": [
        ("1 % timeouts", inference(INFER, "llm-small", 100, 1), "30m", []),
        ("no traffic is no ratio", inference(INFER, "llm-small", 0, 0), "30m", []),
        ("in maintenance", inference(INFER_OFF, "llm-small", 100, 50), "30m", []),
        (
            "one model of two",
            inference(INFER, "llm-small", 100, 1) + inference(INFER, "vision-v2", 100, 30),
            "30m",
            [{"deployment": "prod", "job": "app_inference", "model": "vision-v2"}],
        ),
    ],
    "EscrowSettlementsFailing": [
        ("1 % failures", settlements(PAPI, 99, 1), "30m", []),
        ("no settlements is no ratio", settlements(PAPI, 0, 0), "30m", []),
        ("in maintenance", settlements(PAPI_OFF, 0, 50), "30m", []),
        (
            "every settlement fails",
            settlements(PAPI, 0, 10),
            "30m",
            [{"deployment": "prod", "job": "app_product-api", "instance": "api-1"}],
        ),
    ],
    "ProviderBidsStalled": [
        ("bidding", bids(PROV1, "0+10x40") + orders("0+5x40"), "30m", []),
        ("no orders, nothing to bid on", bids(PROV1, STALLS) + orders("7x40"), "30m", []),
        ("in maintenance", bids(PROV1_OFF, STALLS) + orders("0+5x40"), "30m", []),
        (
            "one provider of two stalled",
            bids(PROV1, "0+10x40") + bids(PROV2, STALLS) + orders("0+5x40"),
            "30m",
            [{"deployment": "prod", "job": "app_provider", "instance": "provider-2"}],
        ),
    ],
    "HttpServiceHighErrorRatio": [
        ("1 % errors", requests(API, {"200": 99, "500": 1}), "30m", []),
        ("client errors are not server errors", requests(API, {"200": 50, "404": 50}), "30m", []),
        ("no traffic is no ratio", requests(API, {"200": 0, "503": 0}), "30m", []),
        ("in maintenance", requests(API_OFF, {"200": 50, "503": 50}), "30m", []),
        (
            "a 5xx status class counts too",
            requests(API, {"2xx": 50, "5xx": 50}),
            "30m",
            [{"deployment": "prod", "job": APP, "instance": "api-1"}],
        ),
        (
            "errors on one route of several",
            requests(API, {"200": 100}) + requests(API, {"502": 20}, route="/pay"),
            "30m",
            [{"deployment": "prod", "job": APP, "instance": "api-1"}],
        ),
    ],
    "HttpServiceHighLatency": [
        ("fast", latency(API, {"0.1": 10, "0.5": 10, "+Inf": 10}), "30m", []),
        ("p99 just under 1 s", latency(API, {"0.5": 0, "1": 10, "+Inf": 10}), "30m", []),
        ("no traffic", latency(API, {"1": 0, "+Inf": 0}), "30m", []),
        ("in maintenance", latency(API_OFF, {"1": 0, "5": 10, "+Inf": 10}), "30m", []),
    ],
    "AppTaskQueueBackingUp": [
        ("deep but draining", queue(API, "5000-50x40"), "30m", []),
        ("growing but shallow", queue(API, "0+10x40"), "30m", []),
        ("deep and steady", queue(API, "5000x40"), "30m", []),
        ("in maintenance", queue(API_OFF, "1000+100x40"), "30m", []),
        (
            "two queues, one backing up",
            queue(API, "1000+100x40") + queue(API, "2000-10x40", name="reports"),
            "30m",
            [{"deployment": "prod", "job": APP, "instance": "api-1", "queue": "emails"}],
        ),
    ],
    "IngestStalled": [
        ("writing", messages(ING, "0+600x40"), "30m", []),
        (
            "stalled 7 minutes is shorter than the window and for",
            messages(ING, "0+600x20 12000x20"),
            "27m",
            [],
        ),
        (
            "a service gone has no series (the up alerts' case)",
            messages(ING, "0+600x10 _x30"),
            "30m",
            [],
        ),
        (
            "a quiet tenant is no stall",
            messages(ING, "0+600x10 6000x30") + messages(ING, "0+600x40", tenant="globex"),
            "30m",
            [],
        ),
        ("in maintenance", messages(ING_OFF, "0+600x10 6000x30"), "30m", []),
        (
            "one stalled replica of two",
            messages(ING, "0+600x10 6000x30") + messages(ING2, "0+600x40"),
            "30m",
            [ING_LABELS],
        ),
    ],
    "IngestWriteLatencyHigh": [
        ("fast", writes(ING, {"0.1": 10, "0.5": 10, "+Inf": 10}), "30m", []),
        ("p99 just under 0.5 s", writes(ING, {"0.1": 0, "0.5": 10, "+Inf": 10}), "30m", []),
        ("no writes", writes(ING, {"0.5": 0, "+Inf": 0}), "30m", []),
        ("in maintenance", writes(ING_OFF, {"0.5": 0, "1": 10, "+Inf": 10}), "30m", []),
        (
            "all writes slow",
            writes(ING, {"0.5": 0, "1": 0, "2.5": 10, "+Inf": 10}),
            "30m",
            [ING_LABELS],
        ),
    ],
    "AlertDeliveriesFailing": [
        ("1 % fail", deliveries(ING, {"success": 99, "failure": 1}), "30m", []),
        ("no deliveries is no ratio", deliveries(ING, {"success": 0, "failure": 0}), "30m", []),
        ("in maintenance", deliveries(ING_OFF, {"success": 50, "failure": 50}), "30m", []),
        (
            "one channel failing of two",
            deliveries(ING, {"success": 50, "failure": 50})
            + deliveries(ING, {"success": 100, "failure": 0}, channel="email"),
            "30m",
            [ING_LABELS | {"channel": "webhook"}],
        ),
    ],
    "IngestQuarantineGrowing": [
        (
            "0.5 % quarantined",
            messages(ING, "0+1000x40")
            + counter("ingest_quarantined_messages_total", ING, "0+5x40", reason="schema"),
            "30m",
            [],
        ),
        (
            "a stalled service is no share (no +Inf)",
            messages(ING, "1000x40")
            + counter("ingest_quarantined_messages_total", ING, "0+50x40", reason="schema"),
            "30m",
            [],
        ),
        (
            "a burst that ended 20 minutes ago",
            messages(ING, "0+1000x40")
            + counter(
                "ingest_quarantined_messages_total", ING, "0+500x10 5000x30", reason="schema"
            ),
            "35m",
            [],
        ),
        (
            "in maintenance",
            messages(ING_OFF, "0+1000x40")
            + counter("ingest_quarantined_messages_total", ING_OFF, "0+50x40", reason="schema"),
            "35m",
            [],
        ),
        (
            "reasons add up",
            messages(ING, "0+1000x40")
            + counter("ingest_quarantined_messages_total", ING, "0+8x40", reason="schema")
            + counter("ingest_quarantined_messages_total", ING, "0+8x40", reason="oversize"),
            "35m",
            [ING_LABELS],
        ),
    ],
    "IngestAuthFailureBurst": [
        (
            "a few a minute",
            counter("auth_failures_total", ING, "0+10x20", reason="expired"),
            "15m",
            [],
        ),
        (
            "in maintenance",
            counter("auth_failures_total", ING_OFF, "0+600x20", reason="bad_token"),
            "15m",
            [],
        ),
        (
            "reasons add up",
            [
                counter("auth_failures_total", ING, "0+30x20", reason=reason)[0]
                for reason in ("bad_token", "expired", "unknown_device")
            ],
            "15m",
            [ING_LABELS],
        ),
    ],
}


def series_name(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def case_tests(names: set[str], alerts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """promtool cases: a silent one expects no alert; a firing one reads ALERTS, so it checks
    which alerts fire and with which labels (their annotations are the generated test's)."""
    tests = []
    for alert, cases in CASES.items():
        if alert not in names:
            continue
        severity = alerts[alert]["labels"]["severity"]
        for case, series, at, firing in cases:
            check: dict[str, Any] = {"eval_time": at, "alertname": alert, "exp_alerts": []}
            if firing:
                check = {
                    "expr": f'ALERTS{{alertname="{alert}", alertstate="firing"}}',
                    "eval_time": at,
                    "exp_samples": [
                        {
                            "labels": series_name(
                                "ALERTS",
                                {
                                    "alertname": alert,
                                    "alertstate": "firing",
                                    "severity": severity,
                                    **labels,
                                },
                            ),
                            "value": 1,
                        }
                        for labels in firing
                    ],
                }
            key = "promql_expr_test" if firing else "alert_rule_test"
            tests.append(
                {
                    "name": f"{alert}: {case}",
                    "interval": "1m",
                    "input_series": [{"series": s, "values": v} for s, v in series],
                    key: [check],
                }
            )
    return tests


_fw = fleetwatch


def _promtool(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", "test", "rules", *map(str, files)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed")
    work = tmp_path_factory.mktemp("product")
    run = _fw("build", "--content", str(CONTENT), "-o", str(work / "build"), cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    yield work / "build"


@pytest.fixture(scope="module")
def built_with_inventory(built: Path) -> Path:
    """The same content built with the example inventory (its custom SQL and app catalogs)."""
    out = built.parent / "with-inventory"
    run = _fw("build", "--inventory", str(INVENTORY), "--content", str(CONTENT), "-o", str(out),
              cwd=built.parent)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def _findings(built: Path, *catalogs: Path) -> list[dict[str, Any]]:
    options = [arg for c in catalogs for arg in ("--catalog", str(c))]
    run = _fw("validate", "--profile", "strict", "--format", "json", *options, str(built),
              cwd=built.parent)  # fmt: skip
    found: list[dict[str, Any]] = json.loads(run.stdout)["findings"]
    assert (run.returncode == 0) == (not any(f["severity"] == "error" for f in found)), run.stderr
    return found


def _alerts(rule_file: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(rule_file.read_text())
    return {r["alert"]: r for g in data["groups"] for r in g["rules"] if "alert" in r}


def test_content_validates_with_the_app_catalogs(built: Path, built_with_inventory: Path) -> None:
    """CometBFT's and Mosquitto's names ship with fleetwatch's catalogs; the apps' come from
    their catalog files, the platform totals' from the inventory's custom SQL: without them,
    they (and only they) are unknown; tenants_total reads as a counter by its name, and so does
    escrow_balance_total shown raw (the product's catalog says gauge)."""
    assert {(f["rule"], Path(f["file"]).stem) for f in _findings(built)} == {
        ("unknown-metric", "http-service"),
        ("unknown-metric", "operator"),
        ("counter-without-rate", "operator"),
        ("unknown-metric", "product"),
        ("counter-without-rate", "product"),
    }
    left = _findings(built, CATALOG, INGEST_CATALOG, PRODUCT_CATALOG)
    assert left
    assert {f["rule"] for f in left} == {"unknown-metric", "counter-without-rate"}
    assert all(any(m in f["message"] for m in SQL_METRICS) for f in left), left
    # the inventory declares the gauges and names the apps' catalogs: no --catalog needed
    assert _findings(built_with_inventory) == []
    catalog = yaml.safe_load((built_with_inventory / "prometheus" / "catalog.yml").read_text())
    types = {m["name"]: m["type"] for m in catalog["metrics"]}
    assert {name: types.get(name) for name in SQL_METRICS} == dict.fromkeys(SQL_METRICS, "gauge")
    assert types.get("escrow_balance_total") == "gauge"
    boards = {p.stem: p for p in (built / "grafana" / "dashboards").rglob("*.json")}
    slos = {"inference-availability", "lease-latency", "verification-availability"}
    assert {"chain-node", "http-service", "operator", "product"} | slos <= set(boards)
    product = json.loads(boards["product"].read_text())["panels"]
    (heatmap,) = [p for p in product if p["type"] == "heatmap"]
    assert heatmap["targets"][0]["format"] == "heatmap", heatmap
    for name, board in boards.items():
        cells: dict[tuple[int, int], str] = {}
        for panel in json.loads(board.read_text())["panels"]:
            g = panel["gridPos"]
            assert g["x"] + g["w"] <= 24, (name, panel["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']} on {cells[(x, y)]}"
                    cells[(x, y)] = panel["title"]
            if panel["type"] != "row":
                assert panel["fieldConfig"]["defaults"].get("unit"), (name, panel["title"])


def test_every_alert_fires_in_its_generated_test_and_has_cases(built: Path) -> None:
    for pack in PACKS:
        alerts = _alerts(built / "prometheus" / "rules" / f"{pack}.yml")
        generated = yaml.safe_load(
            (built / "prometheus" / "tests" / f"{pack}.test.yml").read_text()
        )
        firing = {
            check["alertname"]
            for case in generated["tests"]
            for check in case.get("alert_rule_test", [])
            if check["exp_alerts"]
        }
        assert firing == set(alerts), pack
        # SLO burn alerts: the generated tests cover every factor; their SLIs are below
        own = {name for name, rule in alerts.items() if "slo" not in rule["labels"]}
        assert own <= set(CASES), f"{pack}: no cases for {own - set(CASES)}"
    run = _promtool(*sorted((built / "prometheus" / "tests").glob("*.test.yml")))
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("pack", PACKS)
def test_cases(built: Path, tmp_path: Path, pack: str) -> None:
    rule_file = built / "prometheus" / "rules" / f"{pack}.yml"
    alerts = _alerts(rule_file)
    tests = case_tests(set(alerts), alerts)
    assert tests
    doc = {"rule_files": [str(rule_file)], "evaluation_interval": "1m", "tests": tests}
    path = tmp_path / f"{pack}.cases.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = _promtool(path)
    assert run.returncode == 0, run.stdout + run.stderr


def _panel_expr(board: Path, title: str) -> str:
    panels = json.loads(board.read_text())["panels"]
    (panel,) = [p for p in panels if p["title"] == title]
    expr: str = panel["targets"][0]["expr"]
    for var in ("deployment", "job", "instance", "route"):
        expr = expr.replace(f"${var}", ".+")
    return expr.replace("$__rate_interval", "5m")


def test_status_history_states(built: Path, tmp_path: Path) -> None:
    """The 24 h status panel: 2 healthy, 1 degraded (> 5 % 5xx), 0 down; no traffic is healthy."""
    board = next((built / "grafana" / "dashboards").rglob("http-service.json"))
    panel = json.loads(board.read_text())["panels"]
    assert [p.get("timeFrom") for p in panel if p["title"] == "Status history (24 h)"] == ["24h"]
    expr = _panel_expr(board, "Status history (24 h)")
    targets = {name: t(name, APP) for name in ("ok", "failing", "down", "idle")}
    series = [(f"up{targets[n]}", "0x20" if n == "down" else "1x20") for n in targets]
    series += requests(targets["ok"], {"200": 99, "500": 1})
    series += requests(targets["failing"], {"200": 80, "500": 20})
    series += requests(targets["down"], {"200": 10})
    series += requests(targets["idle"], {"200": 0})
    expected = {"ok": 2, "failing": 1, "down": 0, "idle": 2}
    test = {
        "name": "status history",
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [
            {
                "expr": expr,
                "eval_time": "15m",
                "exp_samples": [
                    {"labels": f'{{instance="{n}"}}', "value": v}
                    for n, v in sorted(expected.items())
                ],
            }
        ],
    }
    rules = tmp_path / "none.yml"
    rules.write_text("groups: []\n")
    doc = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [test]}
    path = tmp_path / "status.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = _promtool(path)
    assert run.returncode == 0, run.stdout + run.stderr


# --- the SLOs' SLIs on raw series (the generated tests feed the recorded ratios only) --------

SLI_INPUTS: dict[str, tuple[list[tuple[str, str]], float]] = {
    # two models: 4 timeouts in 400 requests a minute
    "inference-availability": (
        inference(INFER, "llm-small", 100, 1) + inference(INFER, "vision-v2", 300, 3),
        0.01,
    ),
    # client_python writes le="30.0", Go clients le="30": 3 + 1 slow leases in 200; the
    # 300 s bucket is no 30 s bucket (PromQL regexes are anchored)
    "lease-latency": (
        [
            (f"provider_lease_latency_seconds_{s}{with_labels(PROV1, **le)}", v)
            for s, le, v in (
                ("bucket", {"le": "30.0"}, "0+97x40"),
                ("bucket", {"le": "300.0"}, "0+100x40"),
                ("count", {}, "0+100x40"),
            )
        ]
        + [
            (f"provider_lease_latency_seconds_{s}{with_labels(PROV2, **le)}", v)
            for s, le, v in (("bucket", {"le": "30"}, "0+99x40"), ("count", {}, "0+100x40"))
        ],
        0.02,
    ),
    # a rejection is not an error: 1 error in 100
    "verification-availability": (
        [
            (
                "identity_verifications_total" + with_labels(PAPI, tier="basic", result=r),
                f"0+{n}x40",
            )
            for r, n in (("approved", 90), ("rejected", 9), ("error", 1))
        ],
        0.01,
    ),
}


def test_slo_error_ratios_from_raw_series(built: Path, tmp_path: Path) -> None:
    rule_file = built / "prometheus" / "rules" / "product.yml"
    recorded = {
        r["labels"]["slo"]
        for g in yaml.safe_load(rule_file.read_text())["groups"]
        for r in g["rules"]
        if r.get("record") == "slo:sli_error:ratio_rate5m"
    }
    assert recorded == set(SLI_INPUTS)
    tests = [
        {
            "name": f"{slo}: error ratio",
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series],
            "promql_expr_test": [
                {
                    # round(): the lease SLI's count - bucket leaves a 1e-17 float remainder
                    "expr": f'round(slo:sli_error:ratio_rate{w}{{slo="{slo}"}}, 0.000001)',
                    "eval_time": "30m",
                    "exp_samples": [{"labels": f'{{slo="{slo}"}}', "value": ratio}],
                }
                for w in ("5m", "1h")
            ],
        }
        for slo, (series, ratio) in SLI_INPUTS.items()
    ]
    doc = {"rule_files": [str(rule_file)], "evaluation_interval": "1m", "tests": tests}
    path = tmp_path / "slis.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = _promtool(path)
    assert run.returncode == 0, run.stdout + run.stderr
