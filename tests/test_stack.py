"""`fleetwatch up`: its status table (a target not scraped yet is not called down) and the
exporter it starts with the web config Prometheus' scrape config expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.inventory import Inventory
from fleetwatch.stack import status_table


def test_status_table_tells_pending_from_down() -> None:
    rows = [
        {"job": "fleetwatch", "instance": "127.0.0.1:9717", "health": "up", "error": ""},
        {"job": "local_15s", "instance": "localhost", "health": "unknown", "error": ""},
        {"job": "ssh_30s", "instance": "web-1", "health": "down", "error": "503 " + "x" * 100},
    ]
    lines = status_table(rows).splitlines()
    assert lines[0].split() == ["JOB", "INSTANCE", "HEALTH", "LAST", "ERROR"]
    assert lines[-1] == "1 up, 1 down, 1 not scraped yet"
    assert len(lines[3].split("  ")[-1].strip()) <= 60  # long errors cut to one readable line
    assert status_table(rows[:1]).splitlines()[-1] == "1 up, 0 down"
    assert status_table([]) == "no targets yet"


def _inventory(tmp_path: Path, port: int, scrape: str) -> Inventory:
    from fleetwatch.inventory import inventory_from_text

    return inventory_from_text(
        f"""version: 1
stack:
  exporter: "127.0.0.1:{port}"
  exporter_scrape: {scrape}
deployments:
  - {{name: l, provider: local, hosts: [{{name: here, address: localhost, modules: [local]}}]}}
""",
        str(tmp_path / "fleet.yaml"),
    )


def test_up_without_the_web_config_the_scrape_expects_is_one_error(tmp_path: Path) -> None:
    from fleetwatch.errors import ToolError
    from fleetwatch.stack import start_exporter

    inv = _inventory(tmp_path, 1, "{tls: {ca_file: /x/ca.pem}}")
    with pytest.raises(ToolError, match=r"--web\.config\.file"):
        start_exporter(None, inv, tmp_path / "state")
    assert not (tmp_path / "state" / "exporter.log").exists()  # nothing was started


@pytest.mark.e2e
# up's children outlive their Popen objects by design (`fleetwatch down` stops them by PID)
@pytest.mark.filterwarnings("ignore:subprocess .* is still running:ResourceWarning")
def test_up_starts_the_exporter_with_its_web_config(tmp_path: Path) -> None:
    import base64
    import ssl
    import urllib.error
    import urllib.request

    import bcrypt

    from fleetwatch.stack import StackState, start_exporter, stop
    from servers import free_port
    from service_servers import self_signed_cert

    crt, key = self_signed_cert(tmp_path)
    hashed = bcrypt.hashpw(b"pw-up", bcrypt.gensalt(rounds=4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(
        f"tls_server_config: {{cert_file: {crt}, key_file: {key}}}\n"
        f"basic_auth_users: {{prometheus: '{hashed}'}}\n"
    )
    (tmp_path / "pw").write_text("pw-up")
    port, state = free_port(), tmp_path / "state"
    basic = f"{{username: prometheus, password_file: {tmp_path / 'pw'}}}"
    scrape = f"{{tls: {{ca_file: {crt}}}, basic_auth: {basic}}}"
    inv = _inventory(tmp_path, port, scrape)
    service = start_exporter(None, inv, state, str(web))
    StackState([service]).save(state)
    try:
        assert service.url == f"https://127.0.0.1:{port}"
        context = ssl.create_default_context(cafile=str(crt))
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        try:
            opener.open(f"{service.url}/metrics", timeout=10)
            raise AssertionError("answered without the password")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        auth = base64.b64encode(b"prometheus:pw-up").decode()
        req = urllib.request.Request(
            f"{service.url}/metrics", headers={"Authorization": f"Basic {auth}"}
        )
        with opener.open(req, timeout=10) as resp:
            assert resp.status == 200 and b"fleetwatch_build_info" in resp.read()
    finally:
        assert stop(state) == ["exporter"]
