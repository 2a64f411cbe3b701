"""The service alert packs (rules/databases.yaml, services.yaml, chains.yaml, containers.yaml)
and dashboards/services/: the repository's content builds and validates; every alert has a
test that fires (its `test:` block, generated into build/prometheus/tests) and hand-written
cases below that stay silent on the healthy side of its threshold; the recorded health states
come out right; and a rule whose threshold moves or whose comparison flips fails those tests.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from commands import fleetwatch
from fleetwatch.rules.model import Alert, Threshold
from fleetwatch.rules.pipeline import load
from fleetwatch.rules.threshold import alert_expr

ROOT = Path(__file__).resolve().parents[2]
PACKS = ("databases", "services", "chains", "containers")

# --------------------------------------------------------------------------------------------
# hand-written silent cases: alertname -> [(case, input series, eval time)]
# --------------------------------------------------------------------------------------------


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


DB, CACHE, API = t("db-1", "postgres_15s"), t("cache-1", "redis_15s"), t("api", "http_15s")
DB_OFF, CACHE_OFF = t("db-1", "postgres_15s", True), t("cache-1", "redis_15s", True)
API_OFF = t("api", "http_15s", True)
APP, TEMPLATE = (
    t("db-1", "postgres_15s", datname="app"),
    t("db-1", "postgres_15s", datname="template1"),
)
VAL1 = t("val-1", "cometbft_15s", chain_id="hub-1")
VAL2 = t("val-2", "cometbft_15s", chain_id="hub-1")
VAL2_OFF = t("val-2", "cometbft_15s", True, chain_id="hub-1")
VAL3 = t("val-3", "cometbft_15s", chain_id="hub-2")
GETH = t("geth-1", "ethereum_15s", chain_id="1")
HEIGHT, ETH_HEIGHT = "cometbft_consensus_latest_block_height", "ethereum_blockchain_height"
WORKER = t("docker-1", "docker_15s", name="shop-worker-1")
WEB, WEB_OFF = (
    t("docker-1", "docker_15s", name="web-1"),
    t("docker-1", "docker_15s", True, name="web-1"),
)


def bucket(le: str, values: str, target: str = API) -> tuple[str, str]:
    return (f'fleetwatch_http_request_duration_seconds_bucket{target[:-1]}, le="{le}"}}', values)


def activity(target: str, active: int, idle: int, maximum: int) -> list[tuple[str, str]]:
    base = target[:-1]
    return [
        (f'pg_stat_activity_count{base}, datname="app", state="active"}}', f"{active}x40"),
        (f'pg_stat_activity_count{base}, datname="app", state="idle"}}', f"{idle}x40"),
        (f"pg_settings_max_connections{target}", f"{maximum}x40"),
    ]


def oom(killed: str, restarts: str, running: str) -> list[tuple[str, str]]:
    return [
        (f"fleetwatch_container_oom_killed{WORKER}", killed),
        (f"fleetwatch_container_restarts_total{WORKER}", restarts),
        (f'fleetwatch_container_state{WORKER[:-1]}, state="running"}}', running),
    ]


def throttled(target: str, per_minute: int) -> list[tuple[str, str]]:
    return [
        (f"container_cpu_cfs_periods_total{target}", "0+600x40"),
        (f"container_cpu_cfs_throttled_periods_total{target}", f"0+{per_minute}x40"),
    ]


def redis_memory(used: int, maximum: int) -> list[tuple[str, str]]:
    return [
        (f"redis_memory_used_bytes{CACHE}", f"{used}x40"),
        (f"redis_memory_max_bytes{CACHE}", f"{maximum}x40"),
    ]


Case = tuple[str, list[tuple[str, str]], str]
SILENT: dict[str, list[Case]] = {
    "PostgresDown": [
        ("answers", [(f"pg_up{DB}", "1x40")], "30m"),
        ("one failed probe is shorter than for", [(f"pg_up{DB}", "1x20 0 1x20")], "21m"),
        ("in maintenance", [(f"pg_up{DB_OFF}", "0x40")], "30m"),
    ],
    "PostgresTooManyConnections": [
        ("exactly 80 %", activity(DB, 75, 5, 100), "30m"),
        ("in maintenance", activity(DB_OFF, 95, 5, 100), "30m"),
    ],
    "PostgresDeadlocks": [
        ("no new deadlock", [(f"pg_stat_database_deadlocks{APP}", "7x40")], "30m"),
        ("old deadlocks only", [(f"pg_stat_database_deadlocks{APP}", "0x5 3x35")], "30m"),
        ("template databases", [(f"pg_stat_database_deadlocks{TEMPLATE}", "0+1x40")], "30m"),
    ],
    "RedisDown": [
        ("answers", [(f"redis_up{CACHE}", "1x40")], "30m"),
        ("in maintenance", [(f"redis_up{CACHE_OFF}", "0x40")], "30m"),
    ],
    "RedisMemoryNearMax": [
        ("exactly 90 %", redis_memory(900, 1000), "30m"),
        ("maxmemory 0 is unlimited", redis_memory(950, 0), "30m"),
    ],
    "HealthCheckFailing": [
        ("passing", [(f"probe_success{API}", "1x40")], "30m"),
        ("one failure is shorter than for", [(f"probe_success{API}", "1x20 0 1x20")], "21m"),
        ("in maintenance", [(f"probe_success{API_OFF}", "0x40")], "30m"),
    ],
    "HealthCheckSlow": [
        ("fast", [bucket("0.5", "0+4x40"), bucket("1", "0+4x40"), bucket("+Inf", "0+4x40")], "30m"),
        (
            "p95 just under 1s",
            [bucket("0.75", "0x40"), bucket("1", "0+4x40"), bucket("+Inf", "0+4x40")],
            "30m",
        ),
        ("no answer to measure", [bucket("1", "20x40"), bucket("+Inf", "20x40")], "30m"),
    ],
    "ChainNodeStalled": [
        (
            "producing blocks",
            [(f"{HEIGHT}{VAL1}", "100+6x40"), (f"{ETH_HEIGHT}{GETH}", "500+5x40")],
            "30m",
        ),
        ("a three-minute gap", [(f"{HEIGHT}{VAL1}", "100+10x20 300x3 310+10x20")], "26m"),
    ],
    "ChainNodeCatchingUp": [
        (
            "in sync",
            [
                (f"cometbft_blocksync_syncing{VAL1}", "0x40"),
                (f"fleetwatch_ethereum_syncing{GETH}", "0x40"),
            ],
            "30m",
        ),
        ("catching up for 12 minutes", [(f"cometbft_blocksync_syncing{VAL1}", "0x5 1x35")], "18m"),
    ],
    "ChainNodeBehindFleet": [
        (
            "5 blocks behind",
            [(f"{HEIGHT}{VAL1}", "1000+10x40"), (f"{HEIGHT}{VAL2}", "995+10x40")],
            "30m",
        ),
        (
            "another chain is not the fleet",
            [
                (f"{HEIGHT}{VAL1}", "1000+10x40"),
                (f"{HEIGHT}{VAL3}", "9000+10x40"),
                (f"{ETH_HEIGHT}{GETH}", "20000+5x40"),
            ],
            "30m",
        ),
        (
            "in maintenance",
            [(f"{HEIGHT}{VAL1}", "1000+10x40"), (f"{HEIGHT}{VAL2_OFF}", "900x40")],
            "30m",
        ),
    ],
    "ContainerOomKilled": [
        ("crashing, not OOM-killed", oom("0x40", "0+1x40", "1x40"), "30m"),
        ("an OOM kill long ago, running since", oom("1x40", "1x40", "1x40"), "30m"),
    ],
    "ContainerRestarting": [
        (
            "two restarts in 15 minutes",
            [(f"fleetwatch_container_restarts_total{WORKER}", "0x10 1x5 2x25")],
            "25m",
        ),
        ("restarted long ago", [(f"fleetwatch_container_restarts_total{WORKER}", "4x40")], "30m"),
    ],
    "ContainerCpuThrottled": [
        ("20 % throttled", throttled(WEB, 120), "30m"),
        ("in maintenance", throttled(WEB_OFF, 300), "30m"),
    ],
    "ChainNodeFewPeers": [
        ("three peers", [(f"cometbft_p2p_peers{VAL1}", "3x40")], "30m"),
        ("many peers", [(f"ethereum_peer_count{GETH}", "25x40")], "30m"),
    ],
}


def silent_tests(names: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{alert}: silent, {case}",
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series],
            "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": []}],
        }
        for alert, cases in SILENT.items()
        if alert in names
        for case, series, at in cases
    ]


# --------------------------------------------------------------------------------------------
# build once: the repository's content with the embedded inventory
# --------------------------------------------------------------------------------------------


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
    work = tmp_path_factory.mktemp("service-packs")
    run = _fw("build", "--content", str(ROOT), "-o", str(work / "build"), cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    yield work / "build"


def _packs(built: Path) -> list[str]:
    return [p for p in PACKS if (built / "prometheus" / "rules" / f"{p}.yml").is_file()]


def _alerts(rule_file: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(rule_file.read_text())
    return {r["alert"]: r for g in data["groups"] for r in g["rules"] if "alert" in r}


def _write_tests(path: Path, rule_file: Path, tests: list[dict[str, Any]]) -> Path:
    doc = {"rule_files": [str(rule_file)], "evaluation_interval": "1m", "tests": tests}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_repository_content_builds_and_validates(built: Path) -> None:
    run = _fw("validate", str(built), cwd=built.parent)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 errors" in run.stdout, run.stdout
    boards = {p.stem for p in (built / "grafana" / "dashboards" / "services").glob("*.json")}
    assert {"databases", "health-grid", "chain-nodes"} <= boards
    assert {"databases", "services", "chains"} <= set(_packs(built))


def test_every_alert_fires_in_a_test_and_has_silent_cases(built: Path) -> None:
    for pack in _packs(built):
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
        assert set(alerts) <= set(SILENT), f"{pack}: no silent case for {set(alerts) - set(SILENT)}"
        for rule in alerts.values():
            assert rule["labels"]["severity"] in ("critical", "warning", "info")
            assert "/d/fw-" in rule["annotations"]["dashboard_url"]


@pytest.mark.parametrize("pack", ["databases", "services", "chains", "containers"])
def test_silent_cases_stay_silent(built: Path, tmp_path: Path, pack: str) -> None:
    rule_file = built / "prometheus" / "rules" / f"{pack}.yml"
    if not rule_file.is_file():
        pytest.skip(f"rules/{pack}.yaml does not exist")
    tests = silent_tests(set(_alerts(rule_file)))
    run = _promtool(_write_tests(tmp_path / f"{pack}.silent.yml", rule_file, tests))
    assert run.returncode == 0, run.stdout + run.stderr


def test_recorded_health_states(built: Path, tmp_path: Path) -> None:
    """healthy 2, degraded 1 (slow, syncing, restarting containers), down 0 (fails, or not
    scraped), unknown -1 (a module without a health signal); host jobs get no state."""
    states = {
        ("api", "http_15s"): 2,
        ("slow", "http_15s"): 1,
        ("db-1", "postgres_15s"): 0,
        ("cache-1", "redis_15s"): 2,
        ("gone", "http_15s"): 0,
        ("broker", "mqtt_15s"): -1,
        ("val-1", "cometbft_15s"): 2,
        ("val-2", "cometbft_15s"): 1,
        ("docker-1", "docker_15s"): 1,
    }
    series = [(f"up{t(i, j)}", "0x20" if i == "gone" else "1x20") for i, j in states]
    series += [(f"up{t('web-1', 'ssh_15s')}", "1x20")]
    for instance in ("api", "slow"):
        target = t(instance, "http_15s")
        series.append((f"probe_success{target}", "1x20"))
        fast = "0+4x20" if instance == "api" else "0x20"
        series += [bucket("0.1", fast, target), bucket("2.5", "0+4x20", target)]
        series += [bucket("+Inf", "0+4x20", target)]
    series += [(f"pg_up{DB}", "0x20"), (f"redis_up{CACHE}", "1x20")]
    series += [(f"redis_memory_used_bytes{CACHE}", "100x20")]
    series += [(f"redis_memory_max_bytes{CACHE}", "1000x20")]
    for node, syncing in (("val-1", "0x20"), ("val-2", "1x20")):
        target = t(node, "cometbft_15s", chain_id="hub-1")
        series.append((f"probe_success{t(node, 'cometbft_15s')}", "1x20"))
        series.append((f"cometbft_consensus_latest_block_height{target}", "100+10x20"))
        series.append((f"cometbft_blocksync_syncing{target}", syncing))
    series += [(f"probe_success{t('docker-1', 'docker_15s')}", "1x20")]
    series += [(f"fleetwatch_container_restarts_total{WORKER}", "0+1x20")]
    expected = [
        {
            "labels": "instance:service_health:state"
            f'{{deployment="prod", instance="{i}", job="{j}", provider="aws"}}',
            "value": v,
        }
        for (i, j), v in sorted(states.items())
    ]
    test = {
        "name": "health states",
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [
            {"expr": "instance:service_health:state", "eval_time": "10m", "exp_samples": expected}
        ],
    }
    rule_file = built / "prometheus" / "rules" / "services.yml"
    run = _promtool(_write_tests(tmp_path / "states.yml", rule_file, [test]))
    assert run.returncode == 0, run.stdout + run.stderr


# --------------------------------------------------------------------------------------------
# mutants: a moved threshold fails the firing test, a flipped comparison the silent ones
# --------------------------------------------------------------------------------------------

NEGATED = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}


def _beyond(alert: Alert) -> Decimal:
    """A threshold the firing test's value no longer crosses."""
    assert alert.test is not None and alert.threshold.value is not None
    value = Decimal(repr(alert.test.value))
    if alert.op in (">", ">="):
        return value + abs(value) + 1
    if alert.op in ("<", "<="):
        return value - abs(value) - 1
    return alert.threshold.value + 1 if alert.op == "==" else value


def _mutants() -> list[tuple[str, str, Alert, str]]:
    """(pack, alert, mutated alert, what changed) for every expr: alert of the packs, and the
    first alert of each pack unchanged (the control: it must pass the very same harness)."""
    _, sources = load(ROOT / "rules", "http://127.0.0.1:3000")
    out: list[tuple[str, str, Alert, str]] = []
    for source in sources:
        if source.name not in PACKS:
            continue
        for alert in source.alerts:
            moved = dataclasses.replace(alert, threshold=Threshold(value=_beyond(alert)))
            flipped = dataclasses.replace(alert, op=NEGATED[alert.op])
            if alert is source.alerts[0]:
                out.append((source.name, alert.name, alert, "unchanged"))
            out.append((source.name, alert.name, moved, f"threshold {moved.threshold.value}"))
            out.append((source.name, alert.name, flipped, f"op {flipped.op}"))
    return out


def _chunks(items: list[Path], n: int) -> list[list[Path]]:
    return [items[i::n] for i in range(n) if items[i::n]]


def test_mutated_rules_fail_their_tests(built: Path, tmp_path: Path) -> None:
    mutants = _mutants()
    assert len(mutants) >= 2 * 14 + 4

    def write(index: int, pack: str, name: str, mutant: Alert) -> Path:
        """One promtool test file: the alert's generated cases and its silent ones, against
        the pack's rules with this alert's expression replaced by the mutant's."""
        data = yaml.safe_load((built / "prometheus" / "rules" / f"{pack}.yml").read_text())
        for group in data["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == name:
                    rule["expr"] = alert_expr(mutant)
        rule_file = tmp_path / f"m{index}.rules.yml"
        rule_file.write_text(yaml.safe_dump(data, sort_keys=False))
        generated = built / "prometheus" / "tests" / f"{pack}.test.yml"
        own = [  # the generated cases of this alert (fires; maintenance)
            case
            for case in yaml.safe_load(generated.read_text())["tests"]
            if any(c["alertname"] == name for c in case.get("alert_rule_test", []))
        ]
        assert own, name
        return _write_tests(tmp_path / f"m{index}.test.yml", rule_file, own + silent_tests({name}))

    files = [write(i, pack, name, mutant) for i, (pack, name, mutant, _) in enumerate(mutants)]
    # four promtool runs over all of them: a section per test file on stdout, SUCCESS when it
    # passed (a failure's details go to stderr)
    with ThreadPoolExecutor(max_workers=4) as pool:
        out = "".join(run.stdout for run in pool.map(lambda c: _promtool(*c), _chunks(files, 4)))
    sections = re.split(r"^Unit Testing:\s+(\S+)$", out, flags=re.M)[1:]
    verdicts = {f: "SUCCESS" in body for f, body in zip(sections[::2], sections[1::2], strict=True)}
    assert set(verdicts) == {str(f) for f in files}, out[-2000:]
    results = [verdicts[str(f)] for f in files]
    wrong = [
        f"{m[0]} {m[1]}: {m[3]} " + ("fails" if m[3] == "unchanged" else "passes")
        for m, ok in zip(mutants, results, strict=True)
        if ok != (m[3] == "unchanged")
    ]
    assert not wrong, "the tests do not tell these rules apart:\n" + "\n".join(wrong)
