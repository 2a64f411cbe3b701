"""A scaled-out topology on real engines, run from ``fleetwatch build``'s ``scale/`` output.

fleetwatch exporter replicas -> shards x replicas of Prometheus in agent mode -> one
VictoriaMetrics with dedup; vmalert evaluates the rules once against it and notifies every
peer of an Alertmanager cluster.  Every engine runs from the files the build wrote (cwd: the
build folder).  Used by test_scale.py (small) and test_scale_failure.py (at size).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capture import CaptureServer
from fleetwatch.inventory import Inventory
from servers import (  # descendants: sshd's stop uses it for the same reason
    ALERTMANAGER,
    LoopbackServer,
    descendants,
    free_port,
    http_get,
    require,
)

ENGINES = ("prometheus", "victoria-metrics", "vmalert", ALERTMANAGER)


def scale_inventory(
    hosts: list[str],
    exporters: dict[str, int],
    vm: int,
    peers: list[int],
    interval: int,
    defaults: str = "",
) -> str:
    """A ``scale:`` inventory on loopback: ``hosts`` through the local module, the exporter
    replicas ``id -> port``, 2 shards x 2 Prometheus agents into VictoriaMetrics on ``vm``,
    vmalert, and the Alertmanager ``peers``; ``defaults``: more lines under ``defaults:``."""
    listed = "".join(f"      - {{name: {h}, address: 127.0.0.1}}\n" for h in hosts)
    ex = "".join(f"    - {{id: {e}, address: '127.0.0.1:{p}'}}\n" for e, p in exporters.items())
    return (
        f"version: 1\ndefaults:\n  scrape_interval: {interval}s\n  modules: [local]\n{defaults}"
        f"deployments:\n  - name: dc1\n    provider: local\n    hosts:\n{listed}"
        f"scale:\n  exporters:\n{ex}"
        "  scraper: {engine: prometheus-agent, shards: 2, replicas: 2}\n"
        f"  storage: {{kind: victoriametrics, url: 'http://127.0.0.1:{vm}'}}\n"
        "  rules: {evaluator: vmalert}\n"
        f"  alertmanager: {{peers: [{', '.join(f'127.0.0.1:{p}' for p in peers)}]}}\n"
    )


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_pair() -> int:
    """A free port whose successor is free too (an Alertmanager's web + gossip ports), below
    the kernel's ephemeral range: the gossip port is bound only when the peer starts, and
    client connections made before (a warm-up's hundreds) must not take it meanwhile."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low - 1)
        if _bindable(port) and _bindable(port + 1):
            return port
    raise RuntimeError("no two consecutive free ports")


def peer_ports(count: int) -> list[int]:
    """``count`` port pairs that do not overlap."""
    ports: list[int] = []
    while len(ports) < count:
        port = port_pair()
        if not {port, port + 1} & {p + d for p in ports for d in (0, 1)}:
            ports.append(port)
    return ports


def args_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


class Engine(LoopbackServer):
    """One engine process run from its built flags, in the build folder."""

    def __init__(self, name: str, argv: list[str], port: int, ready: str, cwd: Path) -> None:
        super().__init__(name, port=port)
        self.argv, self.ready_path, self.cwd = argv, ready, cwd

    def command(self) -> list[str]:
        return self.argv

    def run(self) -> Engine:
        self.start(cwd=self.cwd, timeout=60)
        return self

    def stop(self, grace: float = 5.0) -> int | None:
        # the exporter's local sessions run in sessions of their own: not in its group
        children = descendants(self.pid) if self.alive and self.pid else []
        code = super().stop(grace)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return code


@dataclass
class Topology:
    inventory: Inventory
    out: Path
    vm: Engine
    agents: dict[tuple[int, int], Engine]
    exporters: dict[str, Engine]
    peers: list[Engine]
    #: the webhook receiver the test's alertmanager.yml notifies
    capture: CaptureServer | None = None

    def shard_of(self, exporter_id: str) -> int:
        assert self.inventory.scale is not None
        return self.inventory.scale.shard_of(exporter_id)

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        url = f"{self.vm.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        status, body = http_get(url, timeout=10)
        assert status == 200, body
        return list(json.loads(body)["data"]["result"])

    def peer_alerts(self, peer: Engine, alertname: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"filter": f"alertname={alertname}"})
        status, body = http_get(f"{peer.url}/api/v2/alerts?{query}", timeout=10)
        assert status == 200, body
        return list(json.loads(body))

    def cluster_settled(self) -> bool:
        live = [p for p in self.peers if p.alive]
        for peer in live:
            status, body = http_get(f"{peer.url}/api/v2/status")
            if status != 200 or len(json.loads(body)["cluster"].get("peers") or []) != len(live):
                return False
        return True

    def first_in_line(self) -> Engine:
        """The peer at cluster position 0 (the lowest member name): it notifies first, the
        others wait their position x ``--cluster.peer-timeout`` and read the shared log."""
        names = {}
        for peer in self.peers:
            status, body = http_get(f"{peer.url}/api/v2/status")
            assert status == 200, body
            names[json.loads(body)["cluster"]["name"]] = peer
        return names[min(names)]


def _warm_up(inventory: Inventory, exporters: dict[str, Engine]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from fleetwatch.inventory.assign import assignment

    def probe(item: tuple[str, str]) -> int:
        target, owner = item
        return http_get(f"{exporters[owner].url}/probe?target={target}", timeout=30)[0]

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(probe, sorted(assignment(inventory).items())))
    assert set(statuses) == {200}, statuses


@contextlib.contextmanager
def run_topology(
    inventory: Inventory,
    fleet: Path,
    out: Path,
    tmp: Path,
    exporter_ports: dict[str, int],
    *,
    warm_up: bool = False,
    am_flags: tuple[str, ...] = (
        "--cluster.pushpull-interval=2s",
        "--cluster.gossip-interval=200ms",
        "--cluster.peer-timeout=3s",
    ),
) -> Iterator[Topology]:
    """Start every engine of the built ``out`` (exporters from ``fleet``); stop them all.
    ``warm_up``: probe every target once at its exporter before the scrapers start (the
    first probe of a target opens its session: hundreds at once time out on shared cores)."""
    require(*ENGINES)
    scale = inventory.scale
    assert scale is not None and scale.alertmanager is not None
    started: list[Engine] = []

    def run(engine: Engine) -> Engine:
        started.append(engine)
        return engine.run()

    def port(address: str) -> int:
        return int(address.rpartition(":")[2])

    try:
        vm_args = args_of(out / "scale" / "storage" / "victoria-metrics.args")
        vm_port = port(vm_args[0].split("=", 1)[1])
        vm = run(
            Engine(
                "victoria-metrics",
                ["victoria-metrics", *vm_args, f"-storageDataPath={tmp / 'vm'}",
                 "-search.latencyOffset=1s"],
                vm_port, "/health", out,
            )
        )  # fmt: skip
        exporters = {}
        for ex_id, ex_port in exporter_ports.items():
            argv = [
                sys.executable, "-m", "fleetwatch", "exporter", "--inventory", str(fleet),
                "--listen", f"127.0.0.1:{ex_port}", "--replica", ex_id, "--workers", "0",
            ]  # fmt: skip
            exporters[ex_id] = run(Engine(f"exporter-{ex_id}", argv, ex_port, "/-/healthy", out))
        if warm_up:
            _warm_up(inventory, exporters)
        peers = []
        for i, peer in enumerate(scale.alertmanager.peers):
            argv = [
                ALERTMANAGER,
                *args_of(out / "scale" / "alertmanager" / f"peer-{i}.args"),
                f"--storage.path={tmp / f'am-{i}'}",
                *am_flags,
            ]
            peers.append(run(Engine(f"alertmanager-{i}", argv, port(peer), "/-/ready", out)))
        vmalert_port = free_port()
        argv = [
            "vmalert",
            *args_of(out / "scale" / "rules" / "vmalert.args"),
            f"-httpListenAddr=127.0.0.1:{vmalert_port}",
        ]
        run(Engine("vmalert", argv, vmalert_port, "/health", out))
        agents = {}
        for shard in range(scale.scraper.shards):
            for replica in range(scale.scraper.replicas):
                agent_port = free_port()
                argv = [
                    "prometheus",
                    "--enable-feature=agent",
                    f"--config.file=scale/shard-{shard}/replica-{replica}/prometheus.yml",
                    f"--storage.agent.path={tmp / f'agent-{shard}-{replica}'}",
                    f"--web.listen-address=127.0.0.1:{agent_port}",
                ]
                name = f"agent-{shard}-{replica}"
                agents[shard, replica] = run(Engine(name, argv, agent_port, "/-/ready", out))
        yield Topology(inventory, out, vm, agents, exporters, peers)
    finally:
        for engine in reversed(started):
            engine.stop()
            engine.close()
