"""The metric catalogs' speed (figures printed, never asserted).

``python -m benchmarks.catalog``: time to load the shipped catalogs, and the time of one
``lookup`` and one ``suggest`` (did-you-mean) over typical typos of claimed names, on the
shipped catalogs and on a synthetic one of ~5,000 names claimed by one source.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from fleetwatch.catalog import Catalog, Metric
from fleetwatch.catalog.shipped import shipped, shipped_catalog, shipped_names

TYPOS = [
    "node_cpu_secnds_total",
    "node_disk_reads_bytes_total",
    "node_filesystem_avail",
    "node_memory_MemAvailabel_bytes",
    "node_timex_offset",
    "promhttp_metric_handler_request_total",
]


def _per_call_ms(
    fn: Callable[[str], object], names: list[str], rounds: int = 200
) -> tuple[float, float]:
    times = []
    for name in names:
        start = time.perf_counter()
        for _ in range(rounds):
            fn(name)
        times.append((time.perf_counter() - start) / rounds * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    start = time.perf_counter()
    for name in shipped_names():
        shipped_catalog.__wrapped__(name)  # uncached
    print(f"load shipped catalogs: {(time.perf_counter() - start) * 1000:.0f} ms")
    cat = shipped()
    print(f"shipped: {len(cat)} metrics, {len(cat.namespaces)} claimed namespaces")
    med, worst = _per_call_ms(cat.lookup, TYPOS)
    print(f"lookup (miss): median {med:.4f} ms, worst {worst:.4f} ms")
    med, worst = _per_call_ms(lambda t: cat._suggest(cat.claimed_by(t) or "", t, 3), TYPOS, 50)
    print(f"suggest, first time: median {med:.3f} ms, worst {worst:.3f} ms")
    med, worst = _per_call_ms(cat.suggest, TYPOS, rounds=50)
    print(f"suggest, again (cached): median {med:.4f} ms, worst {worst:.4f} ms")
    words = ["cpu", "disk", "net", "mem", "fs", "proc", "sched", "io", "tcp", "udp"]
    big = Catalog.of(
        (
            Metric(f"app_{w}_{v}_{i}_total", "counter", source="big")
            for w in words
            for v in words
            for i in range(50)
        ),
        ["app_"],
    )
    typos = [f"app_{w}_{v}_{i}_totl" for w in words[:3] for v in words[:2] for i in (3, 17)]
    med, worst = _per_call_ms(lambda t: big._suggest("big", t, 3), typos, rounds=20)
    print(f"suggest over {len(big)} names: median {med:.3f} ms, worst {worst:.3f} ms")


if __name__ == "__main__":
    main()
