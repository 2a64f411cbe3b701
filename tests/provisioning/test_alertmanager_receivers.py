"""The receivers besides PagerDuty / Opsgenie / Slack: a generic webhook, email, the local inbox,
and ``copy_to``: rendered as Alertmanager 0.25 expects, proven by amtool's route tests and by a
real Alertmanager delivering to local servers (the inbox, a webhook capture, an SMTP capture)."""

from __future__ import annotations

import socketserver
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerting import AlertmanagerServer, post_alert
from capture import CaptureServer
from fleetwatch.errors import ConfigErrors
from fleetwatch.inbox import Inbox, make_server
from fleetwatch.provisioning.alertmanager import (
    alerting_from_text,
    build_alertmanager,
    expected_routes,
)
from servers import needs, require, wait_until

BASE = """\
version: 1
receivers:
  pager: {pagerduty: {routing_key_file: /s/pd.key}}
  hook:
    webhook: {url: "https://hooks.example.org/alertmanager", bearer_token_file: /s/hook.token,
              ca_file: /s/ca.pem, max_alerts: 20}
  mail:
    email: {to: ops@example.org, from: am@example.org, smarthost: "smtp.example.org:587",
            auth_username: am, auth_password_file: /s/smtp.pw}
  box: {inbox: {}}
routing: {critical: pager, warning: mail, info: null}
copy_to: [box, hook]
"""


def compile_text(tmp_path: Path, text: str, inbox: str = "127.0.0.1:9719") -> Path:
    src = tmp_path / "alerting.yaml"
    src.write_text(textwrap.dedent(text))
    (out,) = build_alertmanager(src, tmp_path / "am", inbox)
    return out


def receivers(config: Path) -> dict[str, Any]:
    return {r["name"]: r for r in yaml.safe_load(config.read_text())["receivers"]}


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as err:
        alerting_from_text(textwrap.dedent(text), "alerting.yaml")
    return [e.message for e in err.value.errors]


def test_webhook_email_and_inbox_render(tmp_path: Path) -> None:
    got = receivers(compile_text(tmp_path, BASE, inbox="127.0.0.1:4242"))
    assert got["hook"]["webhook_configs"] == [
        {
            "url": "https://hooks.example.org/alertmanager",
            "send_resolved": True,
            "max_alerts": 20,
            "http_config": {
                "authorization": {"type": "Bearer", "credentials_file": "/s/hook.token"},
                "tls_config": {"ca_file": "/s/ca.pem"},
            },
        }
    ]
    (mail,) = got["mail"]["email_configs"]
    assert {k: mail[k] for k in ("to", "from", "smarthost", "auth_password_file")} == {
        "to": "ops@example.org",
        "from": "am@example.org",
        "smarthost": "smtp.example.org:587",
        "auth_password_file": "/s/smtp.pw",
    }
    assert mail["send_resolved"] is False and "Subject" in mail["headers"]
    assert got["box"]["webhook_configs"] == [
        {"url": "http://127.0.0.1:4242/alerts", "send_resolved": True}
    ]


@needs("amtool")
def test_amtool_accepts_them_and_copy_to_reaches_every_alert(tmp_path: Path) -> None:
    config = compile_text(tmp_path, BASE)
    check = subprocess.run(
        ["amtool", "check-config", str(config)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    expected = expected_routes(tmp_path / "alerting.yaml")
    assert expected[0] == ({"severity": "critical"}, ["box", "hook", "pager"])
    cases = [*expected, ({"alertname": "NoSeverity"}, ["box", "hook", "mail"])]
    for labels, want in cases:
        args = [f"{k}={v}" for k, v in labels.items()]
        out = subprocess.run(
            ["amtool", "config", "routes", "test", f"--config.file={config}", *args],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        # an alert without severity still reaches the default receiver after its copies
        assert out.stdout.strip().split(",") == want, labels


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("hook: {webhook: {url: 'https://u:pw@hooks.example.org/x'}}",
         "alerting.yaml:3: credentials in the URL are not allowed"),
        ("hook: {webhook: {url: 'https://h/x', username: u}}",
         "alerting.yaml:3: basic auth needs both username and password_file"),
        ("hook: {webhook: {url: 'https://h/x', bearer_token_file: /t, username: u, "
         "password_file: /p}}",
         "alerting.yaml:3: bearer_token_file and password_file exclude each other"),
        ("mail: {email: {to: a@b.c, from: d@e.f, smarthost: 'h:25', auth_password: pw}}",
         "alerting.yaml:3: inline secret 'auth_password' is not allowed"),
        ("mail: {email: {to: a@b.c, from: d@e.f, smarthost: smtp.example.org}}",
         "alerting.yaml:3: invalid value 'smtp.example.org': must be host:port"),
        ("hook: {webhook: {url: ftp://h/x}}",
         "alerting.yaml:3: invalid value 'ftp://h/x': must be an http:// or https:// URL"),
    ],
)  # fmt: skip
def test_bad_receivers_name_file_line_and_key(snippet: str, message: str) -> None:
    name = snippet.split(":")[0]
    text = f"version: 1\nreceivers:\n  {snippet}\nrouting: {{critical: {name}, warning: {name}, "
    found = errors_of(text + "info: null}\n")
    assert any(m.startswith(message) for m in found), found


def test_copy_to_must_name_a_receiver() -> None:
    text = BASE.replace("copy_to: [box, hook]", "copy_to: [bx]")
    assert errors_of(text) == [
        "alerting.yaml:12: unknown receiver 'bx' (null sends nowhere); did you mean 'box'? "
        "(copy_to[0])"
    ]
    assert any("copy_to[0]" in m for m in errors_of(BASE.replace("[box, hook]", "[null]")))


# --------------------------------------------------------------------------- real sends


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for Alertmanager's client (no TLS, no auth)."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 capture ESMTP\r\n")
        data: list[bytes] = []
        while line := self.rfile.readline(65536):
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 capture\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                while (body := self.rfile.readline(65536)) not in (b".\r\n", b""):
                    data.append(body)
                server.messages.append(b"".join(data).decode("utf-8", "replace"))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp() -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.e2e
def test_real_alertmanager_delivers_to_inbox_webhook_and_email(tmp_path: Path, smtp: Any) -> None:
    require("prometheus-alertmanager")
    (tmp_path / "hook.token").write_text("s3cret-token")
    inbox = Inbox(tmp_path / "inbox.jsonl")
    box = make_server("127.0.0.1", 0, inbox)
    threading.Thread(target=box.serve_forever, daemon=True).start()
    smtp_port = smtp.server_address[1]
    with CaptureServer() as capture:
        text = f"""\
            version: 1
            defaults: {{group_wait: 1s, group_interval: 1s}}
            receivers:
              hook:
                webhook: {{url: '{capture.url}/hook', bearer_token_file: {tmp_path}/hook.token}}
              mail:
                email: {{to: ops@example.org, from: am@example.org,
                         smarthost: '127.0.0.1:{smtp_port}', require_tls: false}}
              box: {{inbox: {{}}}}
            routing: {{critical: mail, warning: mail, info: null}}
            copy_to: [box, hook]
            """
        config = compile_text(tmp_path, text, inbox=f"127.0.0.1:{box.server_address[1]}")
        try:
            with AlertmanagerServer(config_file=config, workdir=tmp_path / "server") as am:
                post_alert(
                    am.url,
                    {"alertname": "HostDown", "severity": "critical", "instance": "web-1"},
                    summary="Host web-1 is down.",
                )
                post_alert(am.url, {"alertname": "Chatty", "severity": "info", "instance": "x"})
                wait_until(
                    lambda: len(inbox.items()) >= 2 and len(capture.received()) >= 2
                    and bool(smtp.messages),
                    20, "inbox, webhook and email notifications", server=am,
                )  # fmt: skip
        finally:
            box.shutdown()
            box.server_close()
    names = sorted(a["labels"]["alertname"] for n in inbox.items() for a in n["alerts"])
    assert names == ["Chatty", "HostDown"]  # info reaches the inbox too, though routed to null
    assert {n["receiver"] for n in inbox.items()} == {"box"}
    assert Inbox(tmp_path / "inbox.jsonl").items() == inbox.items()  # kept on disk
    hooks = capture.received("/hook")
    assert {h.headers["Authorization"] for h in hooks} == {"Bearer s3cret-token"}
    assert all(h.body["version"] == "4" for h in hooks)
    (mail,) = smtp.messages
    assert "HostDown" in mail and "Host web-1 is down." in mail
