"""`fleetwatch up` with `scale:`, before anything starts: what it can run, missing binaries and
taken ports named, and the status table from the store's rows."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fleetwatch.errors import ToolError
from fleetwatch.inventory import Inventory, inventory_from_text
from fleetwatch.stack_scale import (
    Row,
    binaries,
    check_ports,
    check_runnable,
    expected_rows,
    fixed_addresses,
    merge,
    status_table,
)


def _inventory(tmp_path: Path, storage: str = "{kind: victoriametrics, url: 'http://127.0.0.1:8428'}",
               engine: str = "prometheus-agent") -> Inventory:  # fmt: skip
    return inventory_from_text(
        f"""version: 1
stack: {{inbox: "127.0.0.1:9719"}}
deployments:
  - {{name: l, provider: local, hosts: [{{name: a, address: localhost, modules: [local]}},
                                      {{name: b, address: localhost, modules: [local]}}]}}
scale:
  exporters: [{{id: ex-a, address: "127.0.0.1:9717"}}, {{id: ex-b, address: "127.0.0.1:9727"}}]
  scraper: {{engine: {engine}, shards: 2, replicas: 2}}
  storage: {storage}
  alertmanager: {{peers: ["127.0.0.1:9093", "127.0.0.1:9095"]}}
  pins: {{a: ex-a, b: ex-b}}
""",
        str(tmp_path / "fleet.yaml"),
    )


def test_only_what_runs_here(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    assert inv.scale is not None
    check_runnable(inv.scale)
    mimir = _inventory(tmp_path, "{kind: mimir, url: 'http://mimir:9009'}")
    assert mimir.scale is not None
    with pytest.raises(
        ToolError, match=r"victoriametrics \(single node\) only, not mimir.*deploy/scale"
    ):
        check_runnable(mimir.scale)


def test_a_missing_binary_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _inventory(tmp_path, engine="vmagent")
    assert inv.scale is not None
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(ToolError, match=r"no victoria-metrics binary on PATH: `apt-get install "
                       r"victoria-metrics`.*\$FLEETWATCH_VICTORIA_METRICS"):  # fmt: skip
        binaries(inv.scale)
    monkeypatch.setenv("FLEETWATCH_VMAGENT", str(tmp_path / "nope"))
    for name in ("victoria-metrics", "vmalert", "prometheus-alertmanager"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    with pytest.raises(ToolError, match=r"\$FLEETWATCH_VMAGENT=.*nope is not an executable"):
        binaries(inv.scale)


def test_every_fixed_address_is_checked(tmp_path: Path) -> None:
    names = {w: a for a, w in fixed_addresses(_inventory(tmp_path))}
    assert names == {
        "scale.exporters[ex-a]": "127.0.0.1:9717",
        "scale.exporters[ex-b]": "127.0.0.1:9727",
        "scale.storage.url": "127.0.0.1:8428",
        "scale.alertmanager.peers[0]": "127.0.0.1:9093",
        "gossip of scale.alertmanager.peers[0]": "127.0.0.1:9094",
        "scale.alertmanager.peers[1]": "127.0.0.1:9095",
        "gossip of scale.alertmanager.peers[1]": "127.0.0.1:9096",
        "stack.inbox": "127.0.0.1:9719",
    }


def test_a_taken_port_is_named() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ToolError, match=rf"127.0.0.1:{port} \(scale.storage.url\) is taken"):
            check_ports([(f"127.0.0.1:{port}", "scale.storage.url")])
    check_ports([(f"127.0.0.1:{port}", "scale.storage.url")])  # free again


def test_table_rows_from_the_store(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    expected = expected_rows(inv)
    seen = [
        Row("a", "local_15s", "ex-a", "shard-0", "1"),
        Row("b", "local_15s", "ex-a", "shard-0", "0"),  # at the wrong exporter, and down
        Row("127.0.0.1:9717", "fleetwatch", "ex-a", "shard-0", "1"),
        Row("stray", "local_15s", "ex-b", "shard-1", "1"),
    ]
    rows = merge(expected, seen)
    assert [r.target for r in rows] == ["127.0.0.1:9717", "127.0.0.1:9727", "a", "b", "stray"]
    lines = status_table(rows, {"a": "ex-a", "b": "ex-b"}).splitlines()
    assert lines[0].split() == ["TARGET", "JOB", "EXPORTER", "SHARD", "UP"]
    assert lines[2].endswith("not in the store yet") and " ex-b " in lines[2]
    assert "ex-a (assigned ex-b)" in lines[4] and lines[4].rstrip().endswith("down")
    assert lines[-1] == "3 up, 1 down, 1 not in the store yet"
