"""The local alert inbox: Alertmanager's webhook payloads in, bounded, kept across restarts, and
listed by ``fleetwatch notifications``."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleetwatch.cli.main import cli
from fleetwatch.inbox import MAX_BODY, Inbox, make_server

PAYLOAD = {
    "version": "4",
    "receiver": "local-inbox",
    "status": "firing",
    "groupKey": '{}:{alertname="HostDown"}',
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HostDown", "severity": "critical", "instance": "web-1"},
            "annotations": {"summary": "Host web-1 is down."},
            "startsAt": "2026-12-02T07:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "abc",
            "generatorURL": "http://prometheus/graph",
        }
    ],
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox(tmp_path / "inbox.jsonl")
    server = make_server("127.0.0.1", 0, inbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield inbox, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_a_notification_in_is_listed_out(served: tuple[Inbox, int]) -> None:
    _, port = served
    assert request(port, "POST", "/alerts", json.dumps(PAYLOAD).encode())[0] == 200
    status, items = request(port, "GET", "/api/notifications")
    assert status == 200
    (item,) = items
    assert (item["receiver"], item["status"]) == ("local-inbox", "firing")
    (alert,) = item["alerts"]
    assert alert["labels"]["alertname"] == "HostDown"
    assert "generatorURL" not in alert  # only what is shown is kept


def test_bad_requests_are_refused_without_storing(served: tuple[Inbox, int]) -> None:
    inbox, port = served
    assert request(port, "POST", "/alerts", b"not json")[0] == 400
    assert request(port, "POST", "/alerts", b'{"alerts": 3}')[0] == 400
    assert request(port, "POST", "/elsewhere", b"{}")[0] == 404
    assert request(port, "GET", "/nothing")[0] == 404
    # a body announced over the cap is refused before it is read
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
        )
        assert sock.recv(100).startswith(b"HTTP/1.0 413")
    assert inbox.items() == []


def test_kept_across_restarts_and_bounded(tmp_path: Path) -> None:
    store = tmp_path / "inbox.jsonl"
    inbox = Inbox(store, keep=3)
    for i in range(10):
        inbox.add({**PAYLOAD, "groupKey": str(i)})
    assert [n["group_key"] for n in inbox.items()] == ["7", "8", "9"]
    assert len(store.read_text().splitlines()) <= 2 * 3  # the file is compacted
    with store.open("a") as fh:
        fh.write('{"cut by a cra')  # a crash mid-write loses that line only
    again = Inbox(store, keep=3)
    assert [n["group_key"] for n in again.items()] == ["7", "8", "9"]
    assert [n["group_key"] for n in again.items(limit=1)] == ["9"]


def test_notifications_command(served: tuple[Inbox, int], tmp_path: Path) -> None:
    inbox, port = served
    runner = CliRunner()
    url = f"http://127.0.0.1:{port}"
    state = ["--state-dir", str(tmp_path / "none")]
    empty = runner.invoke(cli, ["notifications", "--inbox", url, *state])
    assert empty.exit_code == 0 and "no notifications" in empty.output
    inbox.add(PAYLOAD)
    shown = runner.invoke(cli, ["notifications", "--inbox", url, *state])
    assert shown.exit_code == 0, shown.output
    header, row = shown.output.splitlines()
    assert header.split()[:4] == ["RECEIVED", "RECEIVER", "STATUS", "ALERTNAME"]
    assert row.split()[1:6] == ["local-inbox", "firing", "HostDown", "critical", "web-1"]
    assert row.endswith("Host web-1 is down.")
    as_json = runner.invoke(cli, ["notifications", "--inbox", url, "--json", *state])
    assert json.loads(as_json.output)[0]["alerts"][0]["fingerprint"] == "abc"


def test_notifications_without_an_inbox_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(
        cli,
        ["notifications", "--inbox", f"http://127.0.0.1:{port}", "--state-dir", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "does not answer" in result.output and "fleetwatch up" in result.output
