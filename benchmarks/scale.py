"""How cost grows with the fleet: probes/s, CPU per probe and RSS of exporter replicas at
500 / 1,000 / 2,000 targets on 1, 2 and 4 exporters, and the build of 10,000 hosts over 8.

Targets: the local module (this machine's /proc through the same session program as over SSH)
under many names, with the default collectors: the per-probe work is the real one, but no SSH
connection per target, so RSS here leaves out what 2,000 sshd / asyncssh sessions would add.
Each exporter runs ``fleetwatch exporter --replica ID`` on a ``scale:`` inventory; the driver
(this process, on the same cores) sends every target to its own replica, all targets touched
once first, then as many probes as answer in ``--seconds`` with ``--concurrency`` in flight.
CPU: the exporter process (Python) and its session children (perl) apart, from /proc.
Prints, never asserts.

Usage: python -m benchmarks.scale [--sizes 500,1000,2000] [--exporters 1,2,4] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fleetwatch.inventory import inventory_from_text
from fleetwatch.inventory.assign import assignment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers import descendants, free_port, wait_until  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def inventory_yaml(targets: int, ports: list[int]) -> str:
    hosts = "".join(f"      - {{name: t-{i:05d}, address: 127.0.0.1}}\n" for i in range(targets))
    ex = "".join(f"    - {{id: ex-{i}, address: '127.0.0.1:{p}'}}\n" for i, p in enumerate(ports))
    return (
        "version: 1\ndefaults: {scrape_interval: 15s, modules: [local]}\n"
        f"deployments:\n  - name: dc\n    provider: local\n    hosts:\n{hosts}"
        f"scale:\n  exporters:\n{ex}"
        f"  scraper: {{engine: prometheus-agent, shards: {len(ports)}, replicas: 2}}\n"
        "  storage: {kind: victoriametrics, url: 'http://127.0.0.1:8428'}\n"
    )


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """utime + stime of ``pid`` (``reaped``: of its children it has waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = fields[13:15] if reaped else fields[11:13]
    return sum(int(f) for f in own) / TICKS


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Usage:
    exporter_cpu: float
    session_cpu: float
    exporter_rss: float
    session_rss: float


def usage(pid: int) -> Usage:
    kids = descendants(pid)  # the sessions: `sh -c` and the perl loop under it
    return Usage(
        cpu_seconds(pid),
        # ended sessions count in their parent's children time: live + reaped
        cpu_seconds(pid, reaped=True) + sum(cpu_seconds(k) + cpu_seconds(k, True) for k in kids),
        rss_mib(pid),
        sum(rss_mib(k) for k in kids),
    )


async def drive(urls: list[str], concurrency: int, seconds: float | None) -> tuple[int, int, float]:
    """GET every URL once (``seconds`` None), or round-robin until ``seconds`` pass;
    returns (probes, errors, elapsed)."""
    import aiohttp

    done = errors = 0
    start = time.monotonic()
    end = None if seconds is None else start + seconds
    queue = iter(range(len(urls) if end is None else 1 << 62))
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "15"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done, errors
        for i in queue:
            if end is not None and time.monotonic() >= end:
                return
            try:
                async with session.get(urls[i % len(urls)], headers=headers) as r:
                    await r.read()
                    errors += r.status != 200
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            done += 1

    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return done, errors, time.monotonic() - start


def run_one(targets: int, exporters: int, seconds: float, concurrency: int) -> None:
    ports = [free_port() for _ in range(exporters)]
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "fleet.yaml"
        fleet.write_text(inventory_yaml(targets, ports), encoding="utf-8")
        owners = assignment(inventory_from_text(fleet.read_text(), str(fleet)))
        procs = {}
        for i, port in enumerate(ports):
            argv = [
                sys.executable, "-m", "fleetwatch", "exporter", "--inventory", str(fleet),
                "--listen", f"127.0.0.1:{port}", "--replica", f"ex-{i}", "--workers", "0",
            ]  # fmt: skip
            procs[f"ex-{i}"] = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        url = {f"ex-{i}": f"http://127.0.0.1:{p}" for i, p in enumerate(ports)}
        try:
            for ex_id in procs:
                wait_until(lambda e=ex_id: _healthy(url[e]), 60, f"exporter {ex_id}")
            urls = [f"{url[e]}/probe?target={t}" for t, e in sorted(owners.items())]
            _, warm_errors, warm_time = asyncio.run(drive(urls, concurrency, None))
            before = {e: usage(p.pid) for e, p in procs.items()}
            probes, errors, elapsed = asyncio.run(drive(urls, concurrency, seconds))
            after = {e: usage(p.pid) for e, p in procs.items()}
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
    py = sum(after[e].exporter_cpu - before[e].exporter_cpu for e in procs)
    sess = sum(after[e].session_cpu - before[e].session_cpu for e in procs)
    rss = [after[e].exporter_rss for e in procs]
    srss = sum(after[e].session_rss for e in procs)
    per = max(probes, 1)
    print(
        f"{targets:>6} {exporters:>3} {probes / elapsed:>9.0f} {py / per * 1e3:>9.2f}"
        f" {sess / per * 1e3:>9.2f} {max(rss):>9.0f} {srss:>9.0f}"
        f" {targets / max(warm_time, 1e-9):>9.0f} {errors + warm_errors:>6}"
    )


def _healthy(base: str) -> bool:
    from servers import http_ok

    return http_ok(f"{base}/-/healthy")


def build_time(hosts: int, exporters: int) -> None:
    """The whole ``fleetwatch build`` (the repo's dashboards, rules, alerting.yaml) of a
    ``hosts``-host inventory over ``exporters`` (4 shards x 2 replicas)."""
    from benchmarks.assign import scale_inventory
    from fleetwatch.build import build

    text = scale_inventory(hosts, exporters)
    t0 = time.perf_counter()
    inventory = inventory_from_text(text, "bench.yaml")
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = build(inventory, ROOT, Path(tmp) / "build")
        t2 = time.perf_counter()
        scale_files = result.count("scale")
    print(
        f"fleetwatch build, {hosts} hosts over {exporters} exporters: load {t1 - t0:.1f} s, "
        f"build {t2 - t1:.1f} s ({len(result.files)} files, {scale_files} in scale/)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,1000,2000")
    ap.add_argument("--exporters", default="1,2,4")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--build-hosts", type=int, default=10_000)
    args = ap.parse_args()
    print(
        f"\n== scale: local module, default collectors, {args.concurrency} probes in flight, "
        f"{args.seconds:g} s per run, {os.cpu_count()} CPUs shared =="
    )
    print(
        f"{'targets':>6} {'exp':>3} {'probes/s':>9} {'py ms/pr':>9} {'sess ms':>9}"
        f" {'RSS MiB':>9} {'sess MiB':>9} {'first/s':>9} {'errors':>6}"
    )
    print("  (py: exporter CPU per probe; sess: its perl sessions'; RSS: the largest exporter;")
    print("   sess MiB: all sessions; first/s: rate of every target's first probe)")
    for exporters in [int(x) for x in args.exporters.split(",")]:
        for targets in [int(x) for x in args.sizes.split(",")]:
            run_one(targets, exporters, args.seconds, args.concurrency)
    build_time(args.build_hosts, 8)


if __name__ == "__main__":
    main()
