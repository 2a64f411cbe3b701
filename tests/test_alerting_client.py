"""The Alertmanager API v2 client, against a real Alertmanager on a free loopback port.

The real-Alertmanager helpers live in tests/alerting.py.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest

from alerting import AlertmanagerServer, post_alert, wait_for_state
from fleetwatch.alerting_client import (
    AlertmanagerClient,
    Matcher,
    is_silence_id,
    parse_duration,
    parse_matcher,
    parse_matchers,
    parse_time,
)
from fleetwatch.errors import FleetwatchError, UsageError
from servers import free_port, wait_until


@pytest.fixture
def client(alertmanager: AlertmanagerServer) -> AlertmanagerClient:
    return AlertmanagerClient(alertmanager.url, timeout=5)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alertname=HostDown", Matcher("alertname", "HostDown")),
        ('instance=~"web-.*"', Matcher("instance", "web-.*", is_regex=True)),
        ("instance=~web-.*", Matcher("instance", "web-.*", is_regex=True)),
        ("severity!=info", Matcher("severity", "info", is_equal=False)),
        ("job!~'test.*'", Matcher("job", "test.*", is_regex=True, is_equal=False)),
        ('summary="say \\"hi\\""', Matcher("summary", 'say "hi"')),
        ("team=", Matcher("team", "")),
    ],
)
def test_parse_matcher(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


def test_matcher_round_trips_through_its_text() -> None:
    for m in (Matcher("a", 'x"y\\z'), Matcher("b", "w.*", True, False), Matcher("c", "", False)):
        assert parse_matcher(str(m)) == m


@pytest.mark.parametrize("text", ["HostDown", "=x", "1abc=x", "a~x", 'instance=~"web-("'])
def test_bad_matcher_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="bad matcher"):
        parse_matcher(text)


def test_matchers_that_match_everything_are_refused() -> None:
    with pytest.raises(UsageError, match="silence everything"):
        parse_matchers(["instance=~.*", "team="])
    with pytest.raises(UsageError, match="at least one matcher"):
        parse_matchers([])
    assert parse_matchers(["alertname=X", "team="])[0] == Matcher("alertname", "X")


def test_durations() -> None:
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("1w") == timedelta(weeks=1)
    for bad in ("", "0m", "2 hours", "-1h", "1.5h"):
        with pytest.raises(UsageError, match="bad duration"):
            parse_duration(bad)


def test_silence_ids_and_times() -> None:
    assert is_silence_id("0b5c4e8d-5a4b-4c3d-9e2f-1a2b3c4d5e6f")
    assert not is_silence_id("alertname=HostDown")
    moment = parse_time("2026-11-22T08:59:55.761234567Z")
    assert moment is not None and moment.microsecond == 761234 and moment.utcoffset() is not None
    assert parse_time("") is None and parse_time("garbage") is None


def test_bad_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="bad Alertmanager URL"):
        AlertmanagerClient("127.0.0.1:9093")


# --------------------------------------------------------------------------- failures


def test_unreachable_alertmanager_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(FleetwatchError, match=f"Alertmanager at {url} is unreachable") as err:
        AlertmanagerClient(url, timeout=2).alerts()
    assert err.value.exit_code == 1


def test_a_silent_server_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        began = time.monotonic()
        with pytest.raises(FleetwatchError, match=r"unreachable: .*timed out"):
            AlertmanagerClient(url, timeout=0.5).silences()
        assert time.monotonic() - began < 5


# --------------------------------------------------------------------------- a real Alertmanager


@pytest.mark.e2e
def test_alert_silence_expire_cycle(client: AlertmanagerClient) -> None:
    labels = {"alertname": "ClientCycle", "severity": "warning", "instance": "web-1"}
    post_alert(client.url, labels, summary="Disk almost full.")
    wait_for_state(client, "ClientCycle", "firing")
    (alert,) = client.alerts([Matcher("alertname", "ClientCycle")])
    assert alert.labels == labels and alert.annotations == {"summary": "Disk almost full."}
    assert alert.state == "active" and alert.starts_at is not None and alert.fingerprint

    matchers = [Matcher("alertname", "ClientCycle"), Matcher("instance", "web-.*", True)]
    silence_id = client.create_silence(matchers, timedelta(hours=2), "maintenance", "tester")
    assert is_silence_id(silence_id)
    wait_for_state(client, "ClientCycle", "silenced")
    (alert,) = client.alerts([Matcher("alertname", "ClientCycle")])
    assert alert.silenced_by == (silence_id,) and alert.state == "suppressed"
    (silence,) = [s for s in client.silences() if s.id == silence_id]
    assert silence.state == "active" and silence.matcher_set == frozenset(matchers)
    assert silence.created_by == "tester" and silence.comment == "maintenance"
    assert silence.ends_at is not None and silence.starts_at is not None
    assert (
        timedelta(hours=1, minutes=59) < silence.ends_at - silence.starts_at <= timedelta(hours=2)
    )

    client.expire_silence(silence_id)
    wait_for_state(client, "ClientCycle", "firing")
    (silence,) = [s for s in client.silences() if s.id == silence_id]
    assert silence.state == "expired"


@pytest.mark.e2e
def test_inhibited_alerts_are_reported_as_such(client: AlertmanagerClient) -> None:
    post_alert(client.url, {"alertname": "HostDown", "instance": "db-9", "severity": "critical"})
    post_alert(client.url, {"alertname": "DiskFull", "instance": "db-9", "severity": "warning"})
    wait_for_state(client, "DiskFull", "inhibited")
    (alert,) = client.alerts([Matcher("alertname", "DiskFull"), Matcher("instance", "db-9")])
    assert alert.inhibited_by and alert.state == "suppressed"
    assert client.alerts([Matcher("instance", "db-9")], inhibited=False)[0].status == "firing"


@pytest.mark.e2e
def test_filters_and_server_side_errors(client: AlertmanagerClient) -> None:
    post_alert(client.url, {"alertname": "FilterMe", "instance": "a", "severity": "info"})
    post_alert(client.url, {"alertname": "FilterMe", "instance": "b", "severity": "info"})
    wait_until(lambda: len(client.alerts([Matcher("alertname", "FilterMe")])) == 2, 10, "alerts")
    found = client.alerts([Matcher("alertname", "FilterMe"), Matcher("instance", "b")])
    assert [a.labels["instance"] for a in found] == ["b"]
    with pytest.raises(FleetwatchError, match="has no silence"):
        client.expire_silence("00000000-0000-4000-8000-000000000000")
    # valid in Python, not in Go's RE2: Alertmanager refuses it and says why
    with pytest.raises(FleetwatchError, match=r"answered 400 to POST /api/v2/silences"):
        client.create_silence([Matcher("a", "(?=x)", True)], timedelta(hours=1), "c", "t")


# --------------------------------------------------------------------------- cluster peers


def test_no_reachable_peer_names_every_url() -> None:
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    with pytest.raises(FleetwatchError, match="no Alertmanager peer is reachable") as err:
        AlertmanagerClient(urls[0], timeout=2, peers=urls[1:]).silences()
    assert all(u in str(err.value) for u in urls)


def test_a_post_that_timed_out_is_not_sent_to_another_peer() -> None:
    """It may have landed: a second silence elsewhere would be a duplicate."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        silent = f"http://127.0.0.1:{listener.getsockname()[1]}"
        other = f"http://127.0.0.1:{free_port()}"
        client = AlertmanagerClient(silent, timeout=0.5, peers=[other])
        with pytest.raises(FleetwatchError, match=f"Alertmanager at {silent} is unreachable"):
            client.create_silence([Matcher("alertname", "X")], timedelta(hours=1), "c", "me")
        assert client.url == silent


@pytest.mark.e2e
def test_ack_goes_to_the_peer_that_answers(alertmanager: AlertmanagerServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = AlertmanagerClient(dead, timeout=2, peers=[alertmanager.url])
    silence_id = client.create_silence(
        [Matcher("alertname", "PeerDown")], timedelta(hours=1), "peer test", "tester"
    )
    assert client.url == alertmanager.url and client.peers == (dead,)
    direct = AlertmanagerClient(alertmanager.url, timeout=2)
    assert silence_id in {s.id for s in direct.silences()}
    direct.expire_silence(silence_id)
