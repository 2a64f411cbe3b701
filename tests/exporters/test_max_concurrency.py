"""``fleetwatch exporter --max-concurrency N``: at most N SSH probes run at once.

The hosts are a raw TCP listener that accepts and never sends the SSH banner, so every probe
holds its connection until its deadline: the listener sees exactly as many at once as the
exporter lets run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleetwatch.cli.main import cli
from fleetwatch.errors import ProbeError
from fleetwatch.exporters import server
from fleetwatch.exporters.host.module import HostModule
from fleetwatch.exporters.host.ssh import SSHPool
from fleetwatch.exporters.server import Exporter
from fleetwatch.inventory import inventory_from_text

HOSTS = 5


def _inventory(port: int) -> str:
    hosts = "".join(
        f"      - {{name: h{i}, address: 127.0.0.1,"
        f' ssh: {{port: {port}, known_hosts: "off", use_agent: false}}}}\n'
        for i in range(HOSTS)
    )
    return f"version: 1\ndeployments:\n  - name: d\n    provider: local\n    hosts:\n{hosts}"


class Silent:
    """Accepts TCP connections and says nothing; counts the connections open at once."""

    def __init__(self) -> None:
        self.open = 0
        self.most = 0
        self.release = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.most = max(self.most, self.open)
        try:
            await asyncio.wait(
                [asyncio.ensure_future(reader.read()), asyncio.ensure_future(self.release.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            self.open -= 1
            writer.close()


async def _most_at_once(max_concurrency: int | None) -> int:
    silent = Silent()
    listener = await asyncio.start_server(silent.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    inv = inventory_from_text(_inventory(port), "<test>")
    exporter = Exporter(inv) if max_concurrency is None else Exporter(inv, max_concurrency)
    try:
        results = await asyncio.gather(
            *(exporter.probe(f"h{i}", "ssh", 1.0) for i in range(HOSTS)), return_exceptions=True
        )
        assert all(isinstance(r, ProbeError) for r in results), results
    finally:
        await exporter.close()
        silent.release.set()
        listener.close()
        await listener.wait_closed()
    return silent.most


async def test_the_exporter_runs_at_most_max_concurrency_ssh_probes() -> None:
    assert await _most_at_once(2) == 2
    assert await _most_at_once(None) == HOSTS  # the default, 64, lets all five run


def test_the_command_line_option_reaches_the_ssh_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Exporter] = []

    async def instead(exporter: Exporter, host: str, port: int, web: object = None) -> None:
        seen.append(exporter)

    monkeypatch.setattr(server, "run_forever", instead)
    config = tmp_path / "fleet.yaml"
    config.write_text(_inventory(22))
    argv = ["exporter", "--inventory", str(config), "--max-concurrency", "3", "--workers", "0"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    (exporter,) = seen
    module: Any = exporter.module("ssh")
    assert isinstance(module, HostModule) and isinstance(module.transport, SSHPool)
    assert module.transport.max_concurrency == 3
    rejected = CliRunner().invoke(cli, ["exporter", "--config", str(config), "--max-concurrency=0"])
    assert rejected.exit_code == 2
