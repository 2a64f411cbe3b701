"""Session fixtures: real servers (tests/servers.py) started once per session, stopped by PID."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

import servers
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.validate.promtool import Promtool
from servers import ALERTMANAGER, AlertmanagerServer, NodeExporter, Sshd, require


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Tell servers.py which test runs, so a server started by an unmarked test fails it."""
    servers.current_test = item
    try:
        return (yield)
    finally:
        servers.current_test = None


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    """A private sshd on 127.0.0.1 for key login as the unprivileged test user."""
    require("/usr/sbin/sshd", "ssh", "ssh-keygen", users=["fwtest"], root=True)
    with Sshd(aliases=[f"web-{i}" for i in range(3)]) as server:
        yield server


@pytest.fixture(scope="session")
def node_exporter() -> Iterator[NodeExporter]:
    """Debian's prometheus-node-exporter: the reference fleetwatch is measured against."""
    require("prometheus-node-exporter")
    # Debian patches node_exporter's defaults (it excludes lo, /run, /mnt, /media): run it with
    # upstream's defaults, which are fleetwatch's, so both read the same devices and mounts.
    opts = Options()
    upstream = [
        f"--collector.filesystem.mount-points-exclude={opts.mount_points_exclude}",
        f"--collector.filesystem.fs-types-exclude={opts.fs_types_exclude}",
        f"--collector.diskstats.device-exclude={opts.diskstats_device_exclude}",
        "--collector.netdev.device-exclude=",
    ]
    with NodeExporter(extra_args=upstream) as server:
        yield server


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[AlertmanagerServer]:
    """Alertmanager with a config that notifies nobody, one per test module (own alerts)."""
    require(ALERTMANAGER)
    with AlertmanagerServer() as server:
        yield server


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """promtool from PATH (skips outside CI, fails in CI, when it is missing)."""
    require("promtool")
    return Promtool.find()


def ssh_inventory_yaml(sshd: Sshd, names: list[str], extra: str = "") -> str:
    """An inventory whose hosts are all this sshd (127.0.0.1) under the given names."""
    hosts = "".join(f"      - {{name: {n}, address: 127.0.0.1{extra}}}\n" for n in names)
    return (
        "version: 1\n"
        "defaults:\n"
        "  scrape_interval: 1s\n"
        "  ssh:\n"
        f"    user: {sshd.user}\n    port: {sshd.port}\n"
        f"    identity_file: {sshd.client_key}\n    known_hosts_file: {sshd.known_hosts}\n"
        "    use_agent: false\n"
        "deployments:\n  - name: test\n    provider: loopback\n    labels: {env: test}\n"
        "    hosts:\n" + hosts
    )
