"""``make bench``: the exporter under ten times its scrape rate, then what it kept.

50 hosts (the local sshd under 50 names), each probed every 1.5 s (a 15 s interval scraped ten
times as often) for 60 s through the exporter's HTTP endpoint, as Prometheus would: every host
on its own tick, whatever the others do. Prints (never asserts) p50 / p95 / max latency, errors,
and the exporter's RSS and open file descriptors before and after (a leak shows as growth).

Usage: python -m benchmarks.load [--hosts 50] [--period 1.5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.host import inventory_yaml, pct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers import Sshd, free_port, require, wait_until  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def load(base: str, names: list[str], period: float, seconds: float) -> tuple:
    import aiohttp

    latencies: list[float] = []
    errors: dict[int, int] = {}
    end = time.monotonic() + seconds

    async def host(name: str, offset: float, session: aiohttp.ClientSession) -> None:
        tick = time.monotonic() + offset
        headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(period)}
        while tick < end:
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            t0 = time.monotonic()
            try:
                async with session.get(f"{base}/probe?target={name}", headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        errors[r.status] = errors.get(r.status, 0) + 1
            except (aiohttp.ClientError, TimeoutError):
                errors[0] = errors.get(0, 0) + 1
            latencies.append(time.monotonic() - t0)
            tick += period

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(
            *(host(n, period * i / len(names), session) for i, n in enumerate(names))
        )
    return latencies, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--period", type=float, default=1.5)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    require("/usr/sbin/sshd", users=["fwtest"], root=True)
    with tempfile.TemporaryDirectory() as tmp, Sshd() as sshd:
        inv = Path(tmp) / "load.yaml"
        inv.write_text(inventory_yaml(sshd, args.hosts))
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "fleetwatch", "exporter", "--config", str(inv),
             "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        names = [f"host-{i:03d}" for i in range(args.hosts)]
        try:
            from benchmarks.host import _up, warm_up

            wait_until(lambda: _up(f"{base}/-/healthy"), 20, "fleetwatch exporter")
            asyncio.run(warm_up(base, names, 10))
            rss0, fds0 = rss_mib(proc.pid), open_fds(proc.pid)
            lat, errors = asyncio.run(load(base, names, args.period, args.seconds))
            rss1, fds1 = rss_mib(proc.pid), open_fds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    rate = len(lat) / args.seconds
    print(
        f"\n== load: {args.hosts} hosts every {args.period:g} s for {args.seconds:.0f} s "
        f"({rate:.1f} probes/s, 10x a 15 s interval) =="
    )
    print(
        f"latency p50 {pct(lat, 0.5) * 1000:.1f} ms  p95 {pct(lat, 0.95) * 1000:.1f} ms  "
        f"max {max(lat) * 1000:.1f} ms;  {len(lat)} probes, errors {errors or 'none'}"
    )
    print(f"exporter RSS {rss0:.1f} -> {rss1:.1f} MiB, open fds {fds0} -> {fds1}")


if __name__ == "__main__":
    main()
