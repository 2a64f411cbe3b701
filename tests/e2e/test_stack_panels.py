"""End to end: build the example content, start the stack with `fleetwatch up`, wait for
scrapes, then run every panel query of every built-in dashboard against Prometheus' HTTP API
over the panel's range, with template variables resolved as Grafana would: each returns data.
This machine has no GPU: a stand-in nvidia-smi on the stack's PATH (the local module's session
inherits it) answers the gpu collector's query in NVIDIA's documented CSV, so the fleet
overview's GPU row must return data too.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from commands import fleetwatch
from e2e.grafana_sim import Grafana, panels
from servers import Sshd, free_port, http_get, require, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _fleet(sshd: Sshd, exporter_port: int, prom_port: int) -> str:
    return f"""
version: 1
defaults:
  scrape_interval: 1s
  ssh:
    user: {sshd.user}
    port: {sshd.port}
    identity_file: {sshd.client_key}
    known_hosts_file: {sshd.known_hosts}
    use_agent: false
stack:
  exporter: "127.0.0.1:{exporter_port}"
  prometheus_url: "http://127.0.0.1:{prom_port}"
  alertmanager_url: "http://127.0.0.1:{free_port()}"
  inbox: "127.0.0.1:{free_port()}"
deployments:
  - name: prod
    provider: loopback
    labels: {{env: test}}
    resources: {{cpu_cores: 4, memory: 8GiB, storage: 100GiB}}
    hosts:
      - {{name: web-0, address: 127.0.0.1}}
      - {{name: web-1, address: 127.0.0.1, maintenance: true}}
  - name: lab
    provider: local
    resources: {{cpu_cores: 2, memory: 4GiB, storage: 50GiB}}
    hosts:
      - {{name: here, address: localhost, modules: [local]}}
"""


# `nvidia-smi --query-gpu=F1,F2,... --format=csv,noheader,nounits`: one row per GPU, the fields
# in the order asked, ", " between them (NVIDIA's nvidia-smi documentation)
NVIDIA_SMI = """#!/bin/sh
query=""
for arg in "$@"; do
  case "$arg" in --query-gpu=*) query="${arg#--query-gpu=}" ;; esac
done
[ -n "$query" ] || { echo "stand-in: only --query-gpu" >&2; exit 2; }
for gpu in 0 1; do
  row=""
  for field in $(echo "$query" | tr ',' ' '); do
    case "$field" in
      index) v=$gpu ;;
      uuid) v="GPU-6f3c1e2a-57a9-1c43-1c5b-3b7f2d5e8a1$gpu" ;;
      name) v="NVIDIA A100-SXM4-40GB" ;;
      utilization.gpu) v=$((40 + 30 * gpu)) ;;
      memory.used) v=$((10240 + 8192 * gpu)) ;;
      memory.free) v=$((30720 - 8192 * gpu)) ;;
      memory.total) v=40960 ;;
      temperature.gpu) v=$((55 + 6 * gpu)) ;;
      power.draw) v=201.5$gpu ;;
      *) v="[N/A]" ;;
    esac
    row="${row:+$row, }$v"
  done
  echo "$row"
done
"""


_fleetwatch = functools.partial(fleetwatch, timeout=180)


@pytest.fixture(scope="module")
def stack(sshd: Sshd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    require("prometheus", "promtool")
    work = tmp_path_factory.mktemp("stack")
    prom_port = free_port()
    inventory = work / "fleet.yaml"
    inventory.write_text(_fleet(sshd, free_port(), prom_port))
    build = work / "build"
    state = work / "state"
    stand_ins = work / "bin"
    stand_ins.mkdir()
    (stand_ins / "nvidia-smi").write_text(NVIDIA_SMI)
    (stand_ins / "nvidia-smi").chmod(0o755)
    env = {**os.environ, "PATH": f"{stand_ins}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = _fleetwatch(
        "up", "--detach", "--inventory", str(inventory), "-o", str(build),
        "--content", str(ROOT), "--state-dir", str(state), cwd=work, env=env,
    )  # fmt: skip
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        yield f"http://127.0.0.1:{prom_port}", build
    finally:
        down = _fleetwatch("down", "--state-dir", str(state), cwd=work)
        assert down.returncode == 0, down.stderr


def _api(prom: str, path: str, params: dict[str, str]) -> Any:
    status, body = http_get(f"{prom}{path}?{urllib.parse.urlencode(params)}", timeout=30)
    data = json.loads(body)
    assert status == 200 and data["status"] == "success", (path, params, data)
    return data["data"]


_RANGE = {"m": 60, "h": 3600, "d": 86400}


def _seconds(rel: str) -> int:
    m = re.fullmatch(r"now-(\d+)([mhd])", rel)
    return int(m.group(1)) * _RANGE[m.group(2)] if m else 3600


def _dashboards(build: Path) -> list[Path]:
    # the host stack has no services: their dashboards are test_service_panels.py's
    root = build / "grafana" / "dashboards"
    return sorted(p for p in root.rglob("*.json") if p.parent.name != "services")


def _scraped_thrice(prom: str) -> int:
    """How many targets there are if every one has three samples in the last minute, else 0."""
    ups = _api(prom, "/api/v1/query", {"query": "count_over_time(up[1m])"})["result"]
    return len(ups) if ups and all(float(u["value"][1]) >= 3 for u in ups) else 0


def _recorded(prom: str) -> list[Any]:
    """Samples of a rate5m recording rule (they need two scrapes and then an evaluation)."""
    query = "deployment:node_cpu_used_cores:sum_rate5m"
    result: list[Any] = _api(prom, "/api/v1/query", {"query": query})["result"]
    return result


def test_every_panel_query_returns_data(stack: tuple[str, Path]) -> None:
    prom, build = stack
    # wait for the first scrapes and two samples of every job (rate needs two)
    wait_until(
        lambda: _scraped_thrice(prom) >= 4,
        60,
        "three scrapes of every target",
    )
    # and for a rule evaluation after them: under load it can lag the scrapes
    wait_until(lambda: bool(_recorded(prom)), 60, "the first rate5m recording rules")
    checked, empty, quiet, optional, gpu_queries = 0, [], 0, [], 0
    for path in _dashboards(build):
        dashboard = json.loads(path.read_text())
        grafana = Grafana(lambda q: _api(prom, "/api/v1/query", {"query": q})["result"], dashboard)
        span = _seconds(dashboard.get("time", {}).get("from", "now-1h"))
        # panels inside collapsed rows are for hardware a host may lack (ZFS, NFS, bonds,
        # NVMe, systemd): this machine has none of it, so their emptiness is told, not failed
        # (Grafana's model: a collapsed row carries them in its own `panels`)
        # the GPU row is collapsed too, but the stand-in nvidia-smi gives "here" two GPUs
        hidden = {
            id(p)
            for top in dashboard.get("panels", [])
            if top.get("type") == "row" and top.get("collapsed") and top.get("title") != "GPUs"
            for p in panels(top.get("panels", []))
        }
        gpu_queries += sum(
            len(p.get("targets", []))
            for top in dashboard.get("panels", [])
            if top.get("type") == "row" and top.get("title") == "GPUs"
            for p in panels(top.get("panels", []))
        )
        assert all(
            not top.get("panels")
            for top in dashboard.get("panels", [])
            if top.get("type") == "row" and not top.get("collapsed")
        ), f"{path.name}: an expanded row with nested panels"
        for panel in panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                if "expr" not in target or target.get("hide"):
                    continue
                expr = grafana.substitute(target["expr"])
                now = time.time()
                if target.get("instant"):
                    data = _api(prom, "/api/v1/query", {"query": expr})
                else:
                    data = _api(prom, "/api/v1/query_range", {
                        "query": expr, "start": str(now - span), "end": str(now),
                        "step": str(max(15, span // 200)),
                    })  # fmt: skip
                checked += 1
                if not data["result"] and "ALERTS" in expr:
                    quiet += 1  # alert history / firing lists are empty while nothing fires
                elif not data["result"] and id(panel) in hidden:
                    optional.append(f"{path.name}: {panel.get('title')!r}")
                elif not data["result"]:
                    empty.append(f"{path.name}: panel {panel.get('title')!r}: {expr}")
    print(
        f"\n{checked} panel queries over {len(_dashboards(build))} dashboards; {len(empty)} empty;"
        f" {len(optional)} in collapsed hardware rows without data here; {gpu_queries} GPU"
        " queries (stand-in nvidia-smi), all with data"
    )
    assert checked > 20
    assert gpu_queries >= 4
    assert not empty, "\n".join(empty)
