"""``make bench``: the host exporter's figures, measured side by side in one run.

Prints (never asserts):
- probe latency p50 / p95 over a pooled SSH connection and over a fresh connection per probe
  (in-process: probe + exposition), against node_exporter's own local scrape (HTTP GET);
- the same pooled probe through the exporter's HTTP endpoint;
- probes/s for N targets (the local sshd under N names) at concurrency C through the
  exporter's HTTP endpoint, with the exporter's peak RSS.

Usage: python -m benchmarks.host [--targets 200] [--concurrency 20] [--seconds 10] [--samples 200]
                                 [--workers N]   (the exporter's --workers; default its own)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers import NodeExporter, Sshd, free_port, require, wait_until  # noqa: E402

_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5) * 1000:7.2f} ms   p95 {pct(values, 0.95) * 1000:7.2f} ms"


def http_latencies(url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        with _HTTP.open(url, timeout=30) as resp:
            resp.read()
        out.append(time.perf_counter() - t0)
    return out


def inventory_yaml(sshd: Sshd, n: int) -> str:
    hosts = "".join(f"      - {{name: host-{i:03d}, address: 127.0.0.1}}\n" for i in range(n))
    return (
        "version: 1\n"
        "defaults:\n"
        "  ssh:\n"
        f"    user: {sshd.user}\n    port: {sshd.port}\n"
        f"    identity_file: {sshd.client_key}\n    known_hosts_file: {sshd.known_hosts}\n"
        "    use_agent: false\n"
        "deployments:\n  - name: bench\n    provider: local\n    hosts:\n" + hosts
    )


async def inprocess_latencies(inv_path: Path, n: int, fresh: bool) -> list[float]:
    from fleetwatch.exporters.host.module import ssh_module
    from fleetwatch.inventory import load_inventory

    host = load_inventory(inv_path).hosts()[0]
    out = []
    module = ssh_module()
    for i in range(n + 5):
        if fresh:
            module = ssh_module()
        t0 = time.perf_counter()
        result = await module.probe(host, 10.0)
        result.families.render()
        if i >= 5:  # warm-up excluded
            out.append(time.perf_counter() - t0)
        if fresh:
            await module.close()
    await module.close()
    return out


async def throughput(base: str, names: list[str], concurrency: int, seconds: float) -> tuple:
    import aiohttp

    done = 0
    failed = 0
    stop_at = 0.0

    async def worker(k: int, session: aiohttp.ClientSession) -> None:
        nonlocal done, failed
        i = k
        while time.perf_counter() < stop_at:
            url = f"{base}/probe?target={names[i % len(names)]}&module=ssh"
            async with session.get(url) as resp:
                await resp.read()
                if resp.status == 200:
                    done += 1
                else:
                    failed += 1
            i += concurrency

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        stop_at = time.perf_counter() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k, session) for k in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return done / elapsed, done, failed


async def warm_up(base: str, names: list[str], concurrency: int) -> None:
    """Open every target's pooled connection once (not part of the measured phase)."""
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(name: str) -> None:
            async with sem, session.get(f"{base}/probe?target={name}&module=ssh") as r:
                await r.read()

        await asyncio.gather(*(one(n) for n in names))


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by ``pid`` (user + system), or by the whole machine."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(v) for v in fields) - int(fields[3]) - int(fields[4])  # minus idle, iowait
        return busy / tick
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / tick


def process_cpu() -> dict[int, tuple[str, float, int]]:
    """(command name, CPU seconds, parent pid) of every live process."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (comm, (int(fields[11]) + int(fields[12])) / tick, int(fields[1]))
    return out


def cpu_by_part(
    before: dict[int, tuple[str, float, int]],
    after: dict[int, tuple[str, float, int]],
    exporter: int,
) -> dict[str, float]:
    """CPU seconds spent between two snapshots, by part of the probe path."""
    parts: dict[str, float] = {}
    me = os.getpid()
    for pid, (comm, cpu, ppid) in after.items():
        used = cpu - before.get(pid, (comm, 0.0, 0))[1]
        if pid == exporter:
            part = "exporter"
        elif ppid == exporter:
            part = "parse workers"
        elif pid == me:
            part = "load generator"
        elif comm == "sshd":
            part = "sshd"
        elif comm.startswith("fleetwatch-ses") or comm in ("perl", "sh", "head", "stat", "awk"):
            part = "remote session"
        else:
            part = "other"
        parts[part] = parts.get(part, 0.0) + used
    return parts


def children(pid: int) -> list[int]:
    return [p for p, (_, _, ppid) in process_cpu().items() if ppid == pid]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--workers", type=int, default=None, help="exporter --workers (its default)")
    args = ap.parse_args()
    require("/usr/sbin/sshd", "prometheus-node-exporter", users=["fwtest"], root=True)

    with tempfile.TemporaryDirectory() as tmp, Sshd() as sshd, NodeExporter() as ne:
        inv = Path(tmp) / "bench.yaml"
        inv.write_text(inventory_yaml(sshd, args.targets))
        print(f"fleetwatch bench: {os.cpu_count()} cores, sshd on 127.0.0.1:{sshd.port}")
        print("\n== probe latency (one host, sequential) ==")
        ne_lat = http_latencies(ne.url, args.samples)
        pooled = asyncio.run(inprocess_latencies(inv, args.samples, fresh=False))
        fresh = asyncio.run(inprocess_latencies(inv, max(20, args.samples // 4), fresh=True))
        print(f"node_exporter local scrape (HTTP)      {fmt(ne_lat)}")
        print(f"fleetwatch ssh, pooled connection      {fmt(pooled)}")
        print(f"fleetwatch ssh, fresh connection       {fmt(fresh)}")
        ratio = pct(pooled, 0.5) / pct(ne_lat, 0.5)
        print(f"pooled p50 / node_exporter p50 = {ratio:.2f}x (goal <= 1.5x)")

        port = free_port()
        env = dict(os.environ)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fleetwatch",
                "exporter",
                "--inventory",
                str(inv),
                "--listen",
                f"127.0.0.1:{port}",
                "--max-concurrency",
                str(args.concurrency * 2),
                *(["--workers", str(args.workers)] if args.workers is not None else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _up(f"{base}/-/healthy"), 20, "fleetwatch exporter")
            http_pooled = http_latencies(f"{base}/probe?target=host-000&module=ssh", args.samples)
            print(f"fleetwatch ssh, pooled, via HTTP       {fmt(http_pooled)}")
            names = [f"host-{i:03d}" for i in range(args.targets)]
            print(
                f"\n== throughput: {args.targets} targets, concurrency {args.concurrency}, "
                f"{args.seconds:.0f} s =="
            )
            asyncio.run(warm_up(base, names, args.concurrency))
            cpu0, exp0, procs0 = cpu_seconds(), cpu_seconds(proc.pid), process_cpu()
            rate, done, failed = asyncio.run(
                throughput(base, names, args.concurrency, args.seconds)
            )
            cpu1, exp1, procs1 = cpu_seconds(), cpu_seconds(proc.pid), process_cpu()
            print(f"probes/s {rate:8.1f}   ({done} ok, {failed} failed; goal >= 200/s)")
            total = done + failed
            if total:
                print(
                    f"CPU per probe: exporter {(exp1 - exp0) / total * 1000:.1f} ms, "
                    f"whole machine {(cpu1 - cpu0) / total * 1000:.1f} ms "
                    "(sshd, the remote script and the load generator included)"
                )
                parts = cpu_by_part(procs0, procs1, proc.pid)
                print(
                    "  by part (ms per probe): "
                    + ", ".join(
                        f"{k} {v / total * 1000:.1f}"
                        for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
                    )
                )
            workers = [peak_rss_mib(p) for p in children(proc.pid)]
            print(
                f"exporter peak RSS {peak_rss_mib(proc.pid):.1f} MiB, its {len(workers)} parse "
                f"workers {sum(workers):.1f} MiB"
            )
        finally:
            proc.terminate()
            proc.wait(10)


def _up(url: str) -> bool:
    try:
        with _HTTP.open(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
