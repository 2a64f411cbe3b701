"""alerting.yaml → alertmanager.yml: amtool accepts it, routes go where declared, inhibit rules,
receivers' links and details, secrets only by file, clear errors, determinism, and real sends
(a real Alertmanager notifying a local capture server standing in for PagerDuty / Opsgenie)."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerting import AlertmanagerServer, post_alert
from capture import CaptureServer
from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.provisioning.alertmanager import (
    alerting_from_text,
    build_alertmanager,
    expected_routes,
    render,
)
from servers import needs, require, wait_until

ROOT = Path(__file__).parents[2]
DEFAULT = ROOT / "alerting.yaml"

MINIMAL = """\
version: 1
receivers:
  pager: {pagerduty: {routing_key_file: /s/pd.key}}
  genie: {opsgenie: {api_key_file: /s/og.key}}
routing: {critical: pager, warning: genie, info: null}
"""


def write(tmp_path: Path, text: str, name: str = "alerting.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def compile_text(tmp_path: Path, text: str) -> dict[str, Any]:
    (out,) = build_alertmanager(write(tmp_path, text), tmp_path / "am")
    data: dict[str, Any] = yaml.safe_load(out.read_text())
    return data


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as err:
        alerting_from_text(textwrap.dedent(text), "alerting.yaml")
    return [e.message for e in err.value.errors]


def routes_test(config: Path, *labels: str) -> str:
    out = subprocess.run(
        ["amtool", "config", "routes", "test", f"--config.file={config}", *labels],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped alerting.yaml, compiled."""
    (path,) = build_alertmanager(DEFAULT, tmp_path_factory.mktemp("am"))
    return path


# --------------------------------------------------------------------------- amtool


@needs("amtool")
def test_amtool_check_config_accepts_the_default(built: Path) -> None:
    out = subprocess.run(
        ["amtool", "check-config", str(built)], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout and "2 inhibit rules" in out.stdout


@needs("amtool")
@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical"], "oncall-pagerduty"),
        (["severity=warning"], "ops-opsgenie"),
        (["severity=info"], "null"),
        (["severity=critical", "team=database"], "database-pagerduty"),
        (["severity=warning", "team=database"], "database-opsgenie"),
        (["severity=info", "team=database"], "null"),
        (["severity=critical", "team=web"], "oncall-pagerduty"),
        (["alertname=NoSeverity"], "ops-opsgenie"),
    ],
)
def test_amtool_routes_the_default(built: Path, labels: list[str], receivers: str) -> None:
    # copy_to: every alert reaches the local inbox first, then its own route
    assert routes_test(built, *labels) == f"local-inbox,{receivers}"


def test_expected_routes_of_the_default() -> None:
    inbox = ["local-inbox"]
    assert expected_routes(DEFAULT) == [
        ({"severity": "critical"}, [*inbox, "oncall-pagerduty"]),
        ({"severity": "warning"}, [*inbox, "ops-opsgenie"]),
        ({"severity": "info"}, [*inbox, "null"]),
        ({"severity": "critical", "team": "database"}, [*inbox, "database-pagerduty"]),
        ({"severity": "warning", "team": "database"}, [*inbox, "database-opsgenie"]),
        ({"severity": "info", "team": "database"}, [*inbox, "null"]),
    ]


@needs("amtool")
def test_deployment_override_with_continue(tmp_path: Path) -> None:
    text = MINIMAL + textwrap.dedent(
        """\
        overrides:
          - match: {deployment: payments}
            critical: payments-pager
            continue: true
          - match: {deployment: payments, team: db}
            warning: genie
        """
    )
    text = text.replace(
        "receivers:\n", "receivers:\n  payments-pager: {slack: {api_url_file: /s/u}}\n"
    )
    path = write(tmp_path, text)
    (config,) = build_alertmanager(path, tmp_path / "am")
    expected = dict((tuple(sorted(k.items())), v) for k, v in expected_routes(path))
    # continue: the override's receiver, then the default routing; unnamed severities add nobody
    assert expected[(("deployment", "payments"), ("severity", "critical"))] == [
        "payments-pager",
        "pager",
    ]
    assert expected[(("deployment", "payments"), ("severity", "warning"))] == ["null", "genie"]
    for labels, receivers in expected_routes(path):
        args = [f"{k}={v}" for k, v in labels.items()]
        assert routes_test(config, *args).split(",") == receivers, labels


# --------------------------------------------------------------------------- the document


def test_route_tree_defaults_and_overrides(built: Path) -> None:
    doc = yaml.safe_load(built.read_text())
    route = doc["route"]
    assert route["group_by"] == ["alertname", "deployment", "instance"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "30s",
        "5m",
        "4h",
    )
    assert route["routes"][0] == {"receiver": "local-inbox", "continue": True}  # copy_to
    team = route["routes"][1]
    assert team["matchers"] == ['team="database"'] and "continue" not in team
    assert [r["matchers"] for r in team["routes"]] == [
        ['severity="critical"'],
        ['severity="warning"'],
        ['severity="info"'],
    ]
    assert [r["receiver"] for r in route["routes"][2:]] == [
        "oncall-pagerduty",
        "ops-opsgenie",
        "null",
        "ops-opsgenie",  # the catch-all: copy_to's route matched alerts without a severity
    ]
    assert "matchers" not in route["routes"][-1]
    assert {"name": "null"} in doc["receivers"]
    assert doc["global"] == {"resolve_timeout": "5m"}


def test_group_by_and_timing_are_configurable(tmp_path: Path) -> None:
    doc = compile_text(
        tmp_path,
        MINIMAL
        + "defaults: {group_by: [alertname, team], group_wait: 10s, repeat_interval: 1d}\n"
        + "overrides:\n  - {match: {team: db}, critical: pager, group_by: ['...'], "
        + "repeat_interval: 30m}\n",
    )
    route = doc["route"]
    assert route["group_by"] == ["alertname", "team"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "10s",
        "5m",
        "1d",
    )
    assert route["routes"][0]["group_by"] == ["..."]
    assert route["routes"][0]["repeat_interval"] == "30m"


def test_inhibit_rules(built: Path) -> None:
    rules = yaml.safe_load(built.read_text())["inhibit_rules"]
    assert rules == [
        {
            "source_matchers": ['alertname="HostDown"'],
            "target_matchers": ['alertname!="HostDown"'],
            "equal": ["instance"],
        },
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "instance"],
        },
    ]


def test_inhibit_rules_are_configurable(tmp_path: Path) -> None:
    text = MINIMAL + "inhibit: {host_down_alert: NodeUnreachable, equal: [alertname, cluster]}\n"
    rules = compile_text(tmp_path, text)["inhibit_rules"]
    assert rules[0]["source_matchers"] == ['alertname="NodeUnreachable"']
    assert rules[1]["equal"] == ["alertname", "cluster"]
    text = MINIMAL + "inhibit: {host_down_alert: null, critical_mutes_warning: false}\n"
    assert compile_text(tmp_path, text)["inhibit_rules"] == []


def test_pagerduty_receiver(built: Path) -> None:
    receivers = {r["name"]: r for r in yaml.safe_load(built.read_text())["receivers"]}
    (pd,) = receivers["oncall-pagerduty"]["pagerduty_configs"]
    assert pd["routing_key_file"] == "/etc/alertmanager/secrets/pagerduty.key"
    assert "routing_key" not in pd and "url" not in pd
    assert ".CommonLabels.severity" in pd["severity"]
    assert [link["text"] for link in pd["links"]] == ["Runbook", "Dashboard"]
    assert "Annotations.runbook_url" in pd["links"][0]["href"]
    assert "Annotations.dashboard_url" in pd["links"][1]["href"]
    for key in ("runbook_url", "dashboard_url", "summary", "description", "deployment"):
        assert key in pd["details"]
    assert "summary" in pd["description"]


def test_opsgenie_receiver_and_priorities(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "{api_key_file: /s/og.key}",
        "{api_key_file: /s/og.key, api_url: 'http://127.0.0.1:1/', "
        "priorities: {warning: P2}, details: {runbook: x}}",
    )
    receivers = {r["name"]: r for r in compile_text(tmp_path, text)["receivers"]}
    (og,) = receivers["genie"]["opsgenie_configs"]
    assert og["api_key_file"] == "/s/og.key" and og["api_url"] == "http://127.0.0.1:1/"
    assert '"critical" }}P1' in og["priority"] and '"warning" }}P2' in og["priority"]
    assert '"info" }}P5' in og["priority"]
    assert og["details"]["runbook"] == "x" and "runbook_url" in og["details"]
    assert "dashboard_url" in og["details"]


def test_pagerduty_url_and_slack(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "{routing_key_file: /s/pd.key}",
        "{routing_key_file: /s/pd.key, url: 'http://127.0.0.1:9/v2/enqueue'}",
    )
    text = text.replace(
        "receivers:\n", "receivers:\n  chat: {slack: {api_url_file: /s/slack, channel: '#ops'}}\n"
    )
    text = text.replace("info: null", "info: chat")
    receivers = {r["name"]: r for r in compile_text(tmp_path, text)["receivers"]}
    assert receivers["pager"]["pagerduty_configs"][0]["url"] == "http://127.0.0.1:9/v2/enqueue"
    (slack,) = receivers["chat"]["slack_configs"]
    assert slack["api_url_file"] == "/s/slack" and slack["channel"] == "#ops"
    assert "null" not in receivers  # only emitted when something routes to it


def test_deterministic(tmp_path: Path) -> None:
    (a,) = build_alertmanager(DEFAULT, tmp_path / "a")
    (b,) = build_alertmanager(DEFAULT, tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().startswith("# Generated by `fleetwatch build` from alerting.yaml.")
    spec = alerting_from_text(DEFAULT.read_text(), "alerting.yaml")
    assert render(spec) == render(alerting_from_text(DEFAULT.read_text(), "other.yaml"))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("snippet", "line", "key"),
    [
        ("pager: {pagerduty: {routing_key: abc123}}", 3, "pager.pagerduty.routing_key"),
        ("pager: {opsgenie: {api_key: abc123}}", 3, "pager.opsgenie.api_key"),
        ("pager: {slack: {api_url: 'https://hooks.slack.com/x'}}", 3, "pager.slack.api_url"),
        ("pager: {pagerduty: {routing_key_file: /k, token: t}}", 3, "pager.pagerduty.token"),
        ("pager:\n    pagerduty:\n      routing_key_file: /k\n      password: p", 6,
         "pager.pagerduty.password"),
    ],
)  # fmt: skip
def test_inline_secrets_are_refused_with_file_and_line(snippet: str, line: int, key: str) -> None:
    routing = "routing: {critical: pager, warning: pager, info: null}\n"
    text = f"version: 1\nreceivers:\n  {snippet}\n{routing}"
    messages = errors_of(text)
    secret = key.rsplit(".", 1)[1]
    found = [m for m in messages if f"inline secret {secret!r}" in m]
    assert found == [f"alerting.yaml:{line}: inline secret {secret!r} is not allowed: give the "
                     f"file holding it ({secret}_file, e.g. /etc/alertmanager/secrets/<name>.key) "
                     f"(receivers.{key})"], messages  # fmt: skip
    assert not any("abc123" in m or "hooks.slack" in m for m in messages)  # never echoed


def test_unknown_receiver_is_named_with_a_hint() -> None:
    messages = errors_of(MINIMAL.replace("warning: genie", "warning: geni"))
    assert messages == [
        "alerting.yaml:5: unknown receiver 'geni' (null sends nowhere); did you mean 'genie'? "
        "(routing.warning)"
    ]


def test_schema_errors_name_line_and_key() -> None:
    text = MINIMAL + "defaults:\n  group_wait: soon\n  group_byy: [a]\noverrides:\n  - match: {}\n"
    messages = errors_of(text)
    assert (
        "alerting.yaml:7: invalid value 'soon': must be a duration like 30s, 5m, 4h or 1d "
        "(defaults.group_wait)" in messages
    )
    assert (
        "alerting.yaml:8: unknown key 'group_byy'; did you mean 'group_by'? (defaults.group_byy)"
        in messages
    )
    assert "alerting.yaml:10: must not be empty (overrides[0].match)" in messages


def test_missing_routing_and_reserved_names() -> None:
    messages = errors_of(
        "version: 1\nreceivers:\n  'null': {slack: {api_url_file: /x}}\nrouting: {critical: x}\n"
    )
    reserved = "alerting.yaml:3: receiver name 'null' must start"
    assert any(m.startswith(reserved) for m in messages), messages
    assert "alerting.yaml:4: missing required key 'warning' (routing)" in messages
    assert "alerting.yaml:4: missing required key 'info' (routing)" in messages


def test_duplicate_override_and_missing_file(tmp_path: Path) -> None:
    text = MINIMAL + "overrides:\n  - match: {team: a}\n  - match: {team: a}\n"
    assert errors_of(text) == [
        "alerting.yaml:8: the same match as overrides[0]: this override would never be used "
        "(overrides[1].match)"
    ]
    with pytest.raises(ConfigError, match="alerting file not found"):
        build_alertmanager(tmp_path / "nope.yaml", tmp_path / "am")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        alerting_from_text("version: 1\nreceivers: [\n", "alerting.yaml")


# --------------------------------------------------------------------------- real sends


@pytest.mark.e2e
def test_real_alertmanager_notifies_pagerduty_and_opsgenie(tmp_path: Path) -> None:
    require("prometheus-alertmanager")
    (tmp_path / "pd.key").write_text("pd-routing-key")  # no trailing newline
    (tmp_path / "og.key").write_text("og-api-key")
    with CaptureServer() as capture:
        text = f"""\
            version: 1
            defaults: {{group_wait: 1s, group_interval: 1s}}
            receivers:
              pager:
                pagerduty: {{routing_key_file: {tmp_path}/pd.key, url: '{capture.url}/v2/enqueue'}}
              genie: {{opsgenie: {{api_key_file: {tmp_path}/og.key, api_url: '{capture.url}/'}}}}
            routing: {{critical: pager, warning: genie, info: null}}
            """
        (config,) = build_alertmanager(write(tmp_path, text), tmp_path / "am")
        with AlertmanagerServer(config_file=config, workdir=tmp_path / "server") as am:
            post_alert(
                am.url,
                {"alertname": "HostDown", "severity": "critical", "instance": "web-1"},
                summary="Host web-1 is down.",
                runbook_url="https://runbooks.example/HostDown",
                dashboard_url="https://grafana.example/d/fw-server-detail",
            )
            post_alert(
                am.url,
                {"alertname": "DiskFilling", "severity": "warning", "instance": "web-2"},
                summary="Disk filling.",
                runbook_url="https://runbooks.example/DiskFilling",
            )
            post_alert(am.url, {"alertname": "Chatty", "severity": "info", "instance": "web-3"})
            wait_until(lambda: len(capture.received()) >= 2, 20, "two notifications", server=am)
    (pd,) = capture.received("/v2/enqueue")
    assert pd.body["routing_key"] == "pd-routing-key" and pd.body["event_action"] == "trigger"
    assert pd.body["payload"]["severity"] == "critical"
    assert "Host web-1 is down." in pd.body["payload"]["summary"]
    assert pd.body["links"] == [
        {"href": "https://runbooks.example/HostDown", "text": "Runbook"},
        {"href": "https://grafana.example/d/fw-server-detail", "text": "Dashboard"},
    ]
    details = pd.body["payload"]["custom_details"]
    assert details["runbook_url"] == "https://runbooks.example/HostDown"
    assert details["instance"] == "web-1" and details["num_firing"] == "1"
    (og,) = capture.received("/v2/alerts")
    assert og.headers["Authorization"] == "GenieKey og-api-key"
    assert og.body["priority"] == "P3" and og.body["message"] == "DiskFilling: Disk filling."
    assert og.body["details"]["runbook_url"] == "https://runbooks.example/DiskFilling"
    assert og.body["details"]["dashboard_url"] == ""
    assert len(capture.received()) == 2  # info went to the null receiver: nobody
