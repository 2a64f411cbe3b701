"""Assignment of targets to exporters: how many move when one exporter is added, rendezvous
hashing (what ``fleetwatch build`` uses) against ``hash mod N``, and its time.

Usage: python -m benchmarks.assign [--hosts 10000] [--max-exporters 8]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from fleetwatch.inventory import inventory_from_text
from fleetwatch.inventory.assign import assign
from fleetwatch.provisioning.scale import write_scale


def mod_n(targets: list[str], n: int) -> dict[str, int]:
    """The naive alternative: a stable digest mod the number of exporters."""
    return {
        t: int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "big") % n
        for t in targets
    }


def scale_inventory(hosts: int, exporters: int) -> str:
    lines = ["version: 1", "deployments:", "  - name: dc", "    provider: p", "    hosts:"]
    lines += [
        f"      - {{name: host-{i:05d}, address: 10.0.{i // 250}.{i % 250}}}" for i in range(hosts)
    ]
    lines += ["scale:", "  exporters:"]
    lines += [f"    - {{id: ex-{i}, address: 'ex-{i}:9717'}}" for i in range(exporters)]
    lines += [
        "  scraper: {engine: prometheus-agent, shards: 4, replicas: 2}",
        "  storage: {kind: victoriametrics, url: 'http://vm:8428'}",
        "  alertmanager: {peers: ['am-0:9093', 'am-1:9093']}",
    ]
    return "\n".join(lines) + "\n"


def build_time(hosts: int, exporters: int) -> None:
    """Load + write build/scale/ (4 shards x 2 replicas) for ``hosts`` over ``exporters``."""
    text = scale_inventory(hosts, exporters)
    t0 = time.perf_counter()
    inventory = inventory_from_text(text, "bench.yaml")
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_scale(inventory, Path(tmp) / "scale")
    t2 = time.perf_counter()
    print(
        f"scale build, {hosts} hosts over {exporters} exporters: load {t1 - t0:.2f} s, "
        f"build/scale/ {t2 - t1:.2f} s ({len(files)} files)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--max-exporters", type=int, default=8)
    args = parser.parse_args()
    hosts = [f"host-{i:05d}.dc{i % 7}.example" for i in range(args.hosts)]
    print(f"assignment of {args.hosts} hosts: moved when adding one exporter")
    print(f"{'N -> N+1':>9} {'ideal':>7} {'rendezvous':>11} {'mod-N':>7} {'time ms':>8}")
    for n in range(1, args.max_exporters):
        ids = [f"ex-{i}" for i in range(n)]
        t0 = time.perf_counter()
        before = assign(hosts, ids)
        elapsed = (time.perf_counter() - t0) * 1000
        after = assign(hosts, [*ids, f"ex-{n}"])
        moved = sum(before[h] != after[h] for h in hosts) / len(hosts)
        m0, m1 = mod_n(hosts, n), mod_n(hosts, n + 1)
        moved_mod = sum(m0[h] != m1[h] for h in hosts) / len(hosts)
        print(
            f"{n:>4} -> {n + 1:<2} {1 / (n + 1):>7.1%} {moved:>11.1%} {moved_mod:>7.1%}"
            f" {elapsed:>8.1f}"
        )
    build_time(args.hosts, args.max_exporters)


if __name__ == "__main__":
    main()
