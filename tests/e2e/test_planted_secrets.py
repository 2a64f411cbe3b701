"""Planted secrets never leak: a redis password, a PostgreSQL password, webhook bearer token
and basic-auth password, PagerDuty and Opsgenie keys, the exporter scrape password and an SSH
key passphrase, each a unique value in its own file.  ``fleetwatch build``, a probe of every
target (plain and ``debug=true``, a failing one included), ``/`` and ``/metrics``: no generated
file, log line or HTTP answer may hold any of them."""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from fleetwatch.exporters.server import Exporter
from fleetwatch.inventory import load_inventory
from servers import Sshd, require
from service_servers import PG_BIN, Postgres, RedisServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("redis", "redis_wrong", "postgres", "bearer", "basic", "pagerduty", "opsgenie",
         "scrape", "passphrase")  # fmt: skip


@pytest.fixture(scope="module")
def planted() -> dict[str, str]:
    return {name: f"fw{name}{secrets.token_hex(8)}" for name in NAMES}


@pytest.fixture(scope="module")
def redis(planted: dict[str, str]) -> Iterator[RedisServer]:
    require("redis-server", "redis-cli")
    with RedisServer(password=planted["redis"]) as server:
        yield server


@pytest.fixture(scope="module")
def postgres(planted: dict[str, str]) -> Iterator[Postgres]:
    require("runuser", str(PG_BIN / "initdb"), users=["postgres"])
    server = Postgres()
    try:
        server.start_db()
        server.psql(f"CREATE ROLE fwsecret LOGIN PASSWORD '{planted['postgres']}'")
        yield server
    finally:
        server.stop()


def _files(tmp: Path, planted: dict[str, str]) -> dict[str, Path]:
    out = {}
    for name, value in planted.items():
        out[name] = tmp / f"{name}.secret"
        out[name].write_text(value)  # no trailing newline (Opsgenie breaks on one)
    return out


def _setup(
    tmp: Path, sshd: Sshd, redis: RedisServer, pg: Postgres, planted: dict[str, str]
) -> Path:
    files = _files(tmp, planted)
    key = tmp / "id_pass"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", planted["passphrase"], "-f", str(key)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    sshd.authorized_keys.write_text(
        sshd.authorized_keys.read_text() + key.with_suffix(".pub").read_text()
    )
    (tmp / "fleet.yaml").write_text(f"""version: 1
defaults: {{scrape_interval: 5s}}
stack:
  exporter_scrape:
    basic_auth: {{username: prometheus, password_file: {files["scrape"]}}}
deployments:
  - name: d
    provider: loopback
    hosts:
      - name: box
        address: 127.0.0.1
        ssh: {{user: {sshd.user}, port: {sshd.port}, identity_file: {key},
              passphrase_file: {files["passphrase"]}, known_hosts_file: {sshd.known_hosts}}}
    services:
      - {{name: cache, module: redis, address: "{redis.address}",
         params: {{password_file: {files["redis"]}}}}}
      - {{name: cache-wrong, module: redis, address: "{redis.address}",
         params: {{password_file: {files["redis_wrong"]}}}}}
      - {{name: db, module: postgres, address: "127.0.0.1:{pg.port}",
         params: {{user: fwsecret, dbname: postgres, password_file: {files["postgres"]}}}}}
""")
    content = tmp / "content"
    content.mkdir()
    for part in ("dashboards", "rules", "provisioning"):
        if (ROOT / part).exists():
            (content / part).symlink_to(ROOT / part)
    (content / "alerting.yaml").write_text(f"""version: 1
receivers:
  pd: {{pagerduty: {{routing_key_file: {files["pagerduty"]}}}}}
  og: {{opsgenie: {{api_key_file: {files["opsgenie"]}}}}}
  hook: {{webhook: {{url: "http://127.0.0.1:9/hook", bearer_token_file: {files["bearer"]}}}}}
  basic:
    webhook: {{url: "http://127.0.0.1:9/basic", username: am, password_file: {files["basic"]}}}
routing: {{critical: pd, warning: og, info: hook, default: basic}}
""")
    return content


async def test_no_planted_secret_appears_anywhere(
    tmp_path: Path,
    sshd: Sshd,
    redis: RedisServer,
    postgres: Postgres,
    planted: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    original_keys = sshd.authorized_keys.read_text()
    try:
        content = _setup(tmp_path, sshd, redis, postgres, planted)
        build = tmp_path / "build"
        run = subprocess.run(
            [sys.executable, "-m", "fleetwatch", "-vv", "build", "--inventory", "fleet.yaml",
             "-o", str(build), "--content", str(content)],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        answers = {"build stdout": run.stdout, "build stderr": run.stderr}
        caplog.set_level(logging.DEBUG)
        exporter = Exporter(load_inventory(str(tmp_path / "fleet.yaml")))
        async with TestClient(TestServer(exporter.app())) as client:
            for target in ("box", "cache", "cache-wrong", "db"):
                for debug in ("false", "true"):
                    resp = await client.get("/probe", params={"target": target, "debug": debug})
                    answers[f"/probe {target} debug={debug} ({resp.status})"] = await resp.text()
            for path in ("/", "/metrics"):
                answers[path] = await (await client.get(path)).text()
            await exporter.close()
    finally:
        sshd.authorized_keys.write_text(original_keys)
    # the probes really used the secrets: else "nothing leaked" proves nothing
    assert "redis_up 1" in answers["/probe cache debug=false (200)"]
    assert "redis_up 0" in answers["/probe cache-wrong debug=false (200)"]
    assert "pg_up 1" in answers["/probe db debug=false (200)"]
    assert "node_load1 " in answers["/probe box debug=false (200)"]
    built = {str(p.relative_to(build)): p.read_bytes() for p in build.rglob("*") if p.is_file()}
    assert any(b"routing_key_file" in text for text in built.values())
    logs = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    leaks = [
        f"{name} in {where}"
        for name, value in planted.items()
        for where, text in [
            *((f"build/{p}", t.decode(errors="replace")) for p, t in built.items()),
            *answers.items(),
            ("exporter log", logs),
        ]
        if value in text
    ]
    assert "box" in logs or "cache-wrong" in logs, (
        "the exporter logged nothing: the grep saw nothing"
    )
    assert not leaks, leaks
