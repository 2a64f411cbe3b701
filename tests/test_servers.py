"""The real-server helpers in tests/servers.py start, answer, stop and restart."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import (
    SSHD,
    TEST_USER,
    NodeExporter,
    Prometheus,
    Server,
    Sshd,
    free_port,
    port_open,
    require,
    sample_values,
    skip_unless,
    wait_until,
)

pytestmark = pytest.mark.e2e

CHILD = re.compile(r"^child=(\d+)$", re.MULTILINE)


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    require(SSHD, "ssh", "ssh-keygen", users=[TEST_USER], root=True)
    with Sshd(aliases=["web-01", "db-01"]) as server:
        yield server


@pytest.fixture(scope="session")
def node_exporter() -> Iterator[NodeExporter]:
    require(NodeExporter.binary)
    with NodeExporter() as server:
        yield server


@pytest.fixture(scope="session")
def prometheus(node_exporter: NodeExporter) -> Iterator[Prometheus]:
    require(Prometheus.binary)
    config = f"""\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['{node_exporter.address}']
"""
    rules = """\
groups:
  - name: test
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
"""
    with Prometheus(config, {"rules.yml": rules}) as server:
        yield server


# -- helpers without servers --------------------------------------------------------------------


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    assert not port_open("127.0.0.1", port)


def test_wait_until_times_out_naming_what_and_log(tmp_path: Path) -> None:
    server = Server("sleeper", workdir=tmp_path)
    server.start(["sh", "-c", "echo hello-from-log; exec sleep 60"])
    try:
        wait_until(lambda: "hello-from-log" in server.log_tail(), 5, "log line", server=server)
        began = time.monotonic()
        with pytest.raises(TimeoutError, match=r"waiting for the impossible[\s\S]*hello-from-log"):
            wait_until(lambda: False, 0.3, "the impossible", server=server)
        assert time.monotonic() - began < 2
    finally:
        server.stop()
    assert not server.alive


def test_wait_until_fails_fast_when_server_exits(tmp_path: Path) -> None:
    server = Server("crasher", workdir=tmp_path)
    began = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match=r"crasher exited with code 3[\s\S]*boom"):
            server.start(["sh", "-c", "echo boom; exit 3"], ready=lambda: False, timeout=10)
    finally:
        server.stop()
    assert time.monotonic() - began < 5
    assert not server.alive


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    server = Server("trapper", workdir=tmp_path)
    # The shell ignores SIGTERM and has a child: stop() must SIGKILL the group after the grace.
    server.start(["sh", "-c", "trap '' TERM; sleep 60 & echo child=$!; wait"])
    try:
        wait_until(lambda: CHILD.search(server.log_tail()) is not None, 5, "child", server=server)
        match = CHILD.search(server.log_tail())
        assert match is not None
        child = int(match.group(1))
        began = time.monotonic()
        server.stop(grace=0.5)
        assert time.monotonic() - began < 3
        assert not server.alive
    finally:
        server.stop()
    wait_until(lambda: not _pid_running(child), 5, f"child {child} to be gone")


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped by init still answers kill(0): look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_skip_unless_never_skips_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert skip_unless("fleetwatch-no-such-binary") is None
    with pytest.raises(pytest.fail.Exception, match="no-such-binary"):
        require("fleetwatch-no-such-binary")
    monkeypatch.delenv("CI")
    reason = skip_unless("fleetwatch-no-such-binary")
    assert reason is not None and "install-system-deps" in reason
    with pytest.raises(pytest.skip.Exception):
        require("fleetwatch-no-such-binary")
    assert skip_unless("sh") is None


# -- sshd -----------------------------------------------------------------------------------


def test_sshd_runs_command_as_test_user(sshd: Sshd) -> None:
    result = sshd.run("id", "-un", ";", "echo", "fleetwatch-ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [TEST_USER, "fleetwatch-ok"]


def test_sshd_known_hosts_covers_aliases(sshd: Sshd) -> None:
    lines = sshd.known_hosts.read_text().splitlines()
    assert f"[127.0.0.1]:{sshd.port} {sshd.host_public_key}" in lines
    assert any(line.startswith(f"[web-01]:{sshd.port} ") for line in lines)
    # The alias resolves through ssh_config and its host key is checked strictly.
    result = sshd.run("echo", "via-alias", host="db-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "via-alias"


def test_sshd_plain_ssh_command_line(sshd: Sshd) -> None:
    # What other tests and tools will do: explicit key, known_hosts and port, no config file.
    argv = [
        "ssh",
        "-F",
        "/dev/null",
        "-i",
        str(sshd.client_key),
        "-o",
        f"UserKnownHostsFile={sshd.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-p",
        str(sshd.port),
        f"{sshd.user}@{sshd.host}",
        "cat /proc/loadavg",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 5


def test_sshd_stop_then_start_on_same_port(sshd: Sshd) -> None:
    port, key = sshd.port, sshd.host_public_key
    old_pid = sshd.pid
    sshd.stop()
    assert not sshd.alive
    assert not port_open("127.0.0.1", port)
    sshd.start()
    assert sshd.alive and sshd.pid != old_pid
    assert (sshd.port, sshd.host_public_key) == (port, key)
    result = sshd.run("echo", "back")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "back"


# -- node_exporter and Prometheus ---------------------------------------------------------------


def test_node_exporter_serves_cpu_seconds(node_exporter: NodeExporter) -> None:
    text = node_exporter.metrics()
    assert "# TYPE node_cpu_seconds_total counter" in text
    assert 'node_cpu_seconds_total{cpu="0",mode="idle"}' in text


def test_prometheus_scrapes_node_exporter(
    prometheus: Prometheus, node_exporter: NodeExporter
) -> None:
    result = prometheus.wait_for(
        f'up{{job="node",instance="{node_exporter.address}"}}',
        lambda r: sample_values(r) == [1.0],
        timeout=30,
    )
    assert result[0]["metric"]["instance"] == node_exporter.address
    targets = prometheus.targets()
    assert [(t["scrapeUrl"], t["health"]) for t in targets] == [(node_exporter.url, "up")]
    # The rule file written beside the config was loaded and evaluated.
    assert prometheus.rules()[0]["rules"][0]["name"] == "job:up:sum"
    prometheus.wait_for('job:up:sum{job="node"}', lambda r: sample_values(r) == [1.0])
    cpu = prometheus.wait_for("count(node_cpu_seconds_total)")
    assert sample_values(cpu)[0] >= 1
