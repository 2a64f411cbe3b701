"""``fleetwatch alerts`` / ``ack`` / ``unack`` against a real Alertmanager on a free port."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from alerting import AlertmanagerServer, post_alert, wait_for_state
from fleetwatch.alerting_client import AlertmanagerClient, is_silence_id
from fleetwatch.cli import alert_cmds
from fleetwatch.cli.main import FleetwatchGroup
from servers import free_port


@click.group(cls=FleetwatchGroup)
def cli() -> None:
    """The commands as cli/main.py registers them (with FleetwatchGroup's error handling)."""


cli.add_command(alert_cmds.alerts)
cli.add_command(alert_cmds.ack)
cli.add_command(alert_cmds.unack)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def am(alertmanager: AlertmanagerServer) -> str:
    return alertmanager.url


def alert_rows(url: str, alertname: str) -> list[list[str]]:
    result = run("alerts", "--alertmanager", url, f"alertname={alertname}")
    assert result.exit_code == 0, result.output
    return [line.split() for line in result.output.splitlines()[1:]]


@pytest.mark.e2e
def test_alerts_ack_unack_by_id(am: str) -> None:
    labels = {"alertname": "CliDiskFull", "severity": "warning", "instance": "web-1"}
    post_alert(am, labels, summary="Disk almost full.")
    client = AlertmanagerClient(am)
    wait_for_state(client, "CliDiskFull", "firing")

    result = run("alerts", "--alertmanager", am)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["ALERTNAME", "SEVERITY", "INSTANCE", "STATE", "SINCE", "SUMMARY"]
    (row,) = [r for r in rows if r.startswith("CliDiskFull")]
    assert row.split()[:4] == ["CliDiskFull", "warning", "web-1", "firing"]
    assert row.endswith("Disk almost full.")

    result = run(
        "ack", "alertname=CliDiskFull", 'instance=~"web-.*"', "--for", "2h",
        "--comment", "replacing the disk", "--author", "alice", "--alertmanager", am,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    silence_id = result.stdout.strip()
    assert is_silence_id(silence_id)
    assert "1 alerts match now" in result.stderr
    wait_for_state(client, "CliDiskFull", "silenced")
    assert alert_rows(am, "CliDiskFull")[0][3] == "silenced"
    (silence,) = [s for s in client.silences() if s.id == silence_id]
    assert (silence.created_by, silence.comment) == ("alice", "replacing the disk")

    result = run("unack", silence_id, "--alertmanager", am)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"expired {silence_id}"
    wait_for_state(client, "CliDiskFull", "firing")
    assert alert_rows(am, "CliDiskFull")[0][3] == "firing"


@pytest.mark.e2e
def test_unack_by_matchers_and_json(am: str) -> None:
    post_alert(am, {"alertname": "CliHostDown", "severity": "critical", "instance": "db-1"},
               summary="Host down.", runbook_url="https://runbooks.example/HostDown")  # fmt: skip
    client = AlertmanagerClient(am)
    wait_for_state(client, "CliHostDown", "firing")
    result = run("ack", "alertname=CliHostDown", "-c", "planned", "--alertmanager", am)
    assert result.exit_code == 0, result.output
    silence_id = result.stdout.strip()
    wait_for_state(client, "CliHostDown", "silenced")

    result = run("alerts", "--json", "--alertmanager", am, "alertname=CliHostDown")
    assert result.exit_code == 0, result.output
    (alert,) = json.loads(result.output)
    assert alert["state"] == "silenced" and alert["silenced_by"] == [silence_id]
    assert alert["annotations"]["runbook_url"] == "https://runbooks.example/HostDown"
    assert (alert["alertname"], alert["severity"], alert["instance"]) == (
        "CliHostDown",
        "critical",
        "db-1",
    )

    result = run("unack", "alertname=CliHostDown", "instance=db-1", "--alertmanager", am)
    assert result.exit_code == 1
    assert "no active silence" in result.output and silence_id in result.output
    result = run("unack", 'alertname="CliHostDown"', "--alertmanager", am)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"expired {silence_id}"
    wait_for_state(client, "CliHostDown", "firing")


@pytest.mark.e2e
def test_url_from_the_inventory(am: str, tmp_path: Path) -> None:
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(
        "version: 1\nstack:\n  alertmanager_url: " + am + "\n"
        "deployments:\n  - name: d\n    provider: p\n    hosts: [{name: h, address: h}]\n"
    )
    result = run("alerts", "--inventory", str(inventory), "alertname=NothingLikeThis")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"no alerts at {am}"


def test_unreachable_alertmanager_exits_1_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["alerts"], ["ack", "alertname=X", "-c", "why"], ["unack", "alertname=X"]):
        result = run(*args, "--alertmanager", url, "--timeout", "2")
        assert result.exit_code == 1, result.output
        assert f"fleetwatch: error: Alertmanager at {url} is unreachable" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ack", "HostDown", "-c", "x"], "bad matcher 'HostDown'"),
        (["ack", "instance=~.*", "-c", "x"], "would silence everything"),
        (["ack", "alertname=X", "--for", "soon", "-c", "x"], "bad duration 'soon'"),
        (["ack", "alertname=X", "-c", " "], "--comment must not be empty"),
        (["alerts", "severity"], "bad matcher 'severity'"),
        (["unack", "not-a-matcher"], "bad matcher 'not-a-matcher'"),
        (["alerts", "--alertmanager", "localhost:9093"], "bad Alertmanager URL"),
    ],
)
def test_bad_input_is_a_usage_error(args: list[str], message: str) -> None:
    # the port is never contacted: every one of these fails before any request
    result = run(
        *args, *(["--alertmanager", "http://127.0.0.1:1"] if "--alertmanager" not in args else [])
    )
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_ack_requires_a_comment_and_matchers() -> None:
    assert run("ack", "alertname=X").exit_code == 2
    assert run("ack", "-c", "x").exit_code == 2


def test_the_scale_inventory_gives_every_alertmanager_peer(tmp_path: Path) -> None:
    from tests.inventory.scale_fixtures import scale_yaml

    path = tmp_path / "fleet.yaml"
    path.write_text(scale_yaml(hosts=2, exporters=2), encoding="utf-8")
    client = alert_cmds._client(None, str(path), 5.0)
    assert (client.url, client.peers) == ("http://127.0.0.1:19093", ("http://127.0.0.1:19095",))
    given = alert_cmds._client("http://a:9093, http://b:9093", str(path), 5.0)
    assert (given.url, given.peers) == ("http://a:9093", ("http://b:9093",))


@pytest.mark.e2e
def test_ack_reaches_a_live_peer_when_the_first_is_down(am: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    args = ("instance=peer-test", "-c", "peer failover", "--alertmanager", f"{dead},{am}")
    result = run("ack", *args)
    assert result.exit_code == 0, result.output
    silences = AlertmanagerClient(am).silences()
    assert [s.comment for s in silences if s.state == "active"].count("peer failover") == 1
