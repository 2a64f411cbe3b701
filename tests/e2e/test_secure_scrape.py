"""An exporter behind ``--web.config.file`` (HTTPS + basic auth), scraped by a real Prometheus
with the config ``fleetwatch build`` writes from the inventory's ``stack.exporter_scrape``:
every target up, and nobody without the password gets an answer."""

from __future__ import annotations

import functools
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest

from commands import fleetwatch
from servers import Prometheus, free_port, require, wait_until
from service_servers import self_signed_cert

pytestmark = pytest.mark.e2e


_fw = functools.partial(fleetwatch, timeout=120)


def test_prometheus_scrapes_the_exporter_over_https_with_basic_auth(tmp_path: Path) -> None:
    require("prometheus", "promtool", "openssl")
    crt, key = self_signed_cert(tmp_path)
    password = "pr0metheus-s3cret"
    (tmp_path / "password").write_text(password)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(
        f"tls_server_config: {{cert_file: {crt}, key_file: {key}}}\n"
        f"basic_auth_users: {{prometheus: '{hashed}'}}\n"
    )
    port, prom_port = free_port(), free_port()
    (tmp_path / "fleet.yaml").write_text(f"""version: 1
defaults: {{scrape_interval: 1s}}
stack:
  exporter: "127.0.0.1:{port}"
  prometheus_url: "http://127.0.0.1:{prom_port}"
  exporter_scrape:
    tls: {{ca_file: {crt}}}
    basic_auth: {{username: prometheus, password_file: {tmp_path / "password"}}}
deployments:
  - name: local
    provider: local
    hosts: [{{name: here, address: localhost, modules: [local]}}]
""")
    build = tmp_path / "build"
    root = Path(__file__).resolve().parents[2]
    run = _fw("build", "--inventory", "fleet.yaml", "-o", str(build), "--content", str(root),
              cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    config_text = (build / "prometheus" / "prometheus.yml").read_text()
    assert password not in config_text  # by file only
    checked = subprocess.run(
        ["promtool", "check", "config", str(build / "prometheus" / "prometheus.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    exporter = subprocess.Popen(
        [sys.executable, "-m", "fleetwatch", "exporter", "--inventory", "fleet.yaml",
         "--listen", f"127.0.0.1:{port}", "--web.config.file", str(web), "--workers", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        anonymous = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(crt))),
        )

        def status() -> int:
            try:
                with anonymous.open(f"https://127.0.0.1:{port}/probe?target=here", timeout=5):
                    return 200
            except urllib.error.HTTPError as exc:
                return exc.code

        wait_until(lambda: status() == 401, 20, "the exporter answering 401 without a password")
        prom = Prometheus(config_text, port=prom_port, workdir=build / "prometheus")
        with prom:

            def all_up() -> bool:
                rows = prom.query("up")
                return len(rows) == 2 and all(r["value"][1] == "1" for r in rows)

            wait_until(all_up, 30, "both jobs up over HTTPS + basic auth", server=prom)
            targets = prom.api("targets")["activeTargets"]
            assert {t["scrapeUrl"].split("://")[0] for t in targets} == {"https"}
            assert json.dumps(targets).count(password) == 0
    finally:
        exporter.terminate()
        out, _ = exporter.communicate(timeout=10)
    assert password not in out and "https://127.0.0.1" in out
