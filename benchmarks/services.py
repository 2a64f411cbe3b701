"""Service modules against their real servers, beside the standard exporter where one runs here.

For each module: probe latency p50 / p95 of one probe in this process (connection set-up
included where the module opens one per probe), and the standard exporter's own answer for the
same server over HTTP (redis_exporter's /metrics, postgres_exporter's /metrics, blackbox's
/probe).  Figures are printed, never asserted.

    python -m benchmarks.services [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.host import fmt, pct  # noqa: E402
from fleetwatch.exporters import registry  # noqa: E402
from fleetwatch.inventory import Service  # noqa: E402
from servers import free_port, http_get, missing_prerequisites  # noqa: E402
from service_servers import (  # noqa: E402
    GANACHE,
    PG_BIN,
    Blackbox,
    Ganache,
    HttpExporter,
    Postgres,
    RedisServer,
    service_target,
)


def _service(module: str, address: str, **params: Any) -> Service:
    return service_target(module, address, f"bench-{module}", "bench", **params)


async def _module_latencies(service: Service, n: int) -> tuple[list[float], dict[str, str]]:
    module = registry.create(service.module)
    out: list[float] = []
    errors: dict[str, str] = {}
    try:
        for i in range(n + 3):
            t0 = time.perf_counter()
            result = await module.probe(service, 10.0)
            result.families.render()
            if i >= 3:
                out.append(time.perf_counter() - t0)
            errors = result.errors
    finally:
        await module.close()
    return out, errors


def _http_latencies(url: str, n: int) -> list[float]:
    out = []
    for i in range(n + 3):
        t0 = time.perf_counter()
        status, _ = http_get(url, timeout=10)
        if status != 200:
            raise RuntimeError(f"{url}: HTTP {status}")
        if i >= 3:
            out.append(time.perf_counter() - t0)
    return out


def _row(label: str, values: list[float]) -> None:
    print(f"  {label:44s} {fmt(values)}")


def _compare(name: str, ours: list[float], errors: dict[str, str], theirs: list[float]) -> None:
    _row(f"fleetwatch {name}", ours)
    if errors:
        print(f"    (partial: {errors})")
    if theirs:
        print(f"    ratio p50 fleetwatch / standard = {pct(ours, 0.5) / pct(theirs, 0.5):.2f}x")


async def _health_site() -> tuple[web.AppRunner, str]:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "pass", "checks": {"db": {"status": "pass"}}})

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/health"


def bench_redis(n: int) -> None:
    print("\n== redis (redis-server beside prometheus-redis-exporter) ==")
    with RedisServer() as redis:
        redis.cli("SET", "counter", "1")
        exporter = HttpExporter(
            "redis_exporter",
            ["prometheus-redis-exporter", f"--redis.addr=redis://{redis.address}"],
        )
        with exporter.start_exporter():
            theirs = _http_latencies(exporter.url, n)
            ours, errors = asyncio.run(_module_latencies(_service("redis", redis.address), n))
        _row("redis_exporter /metrics", theirs)
        _compare("redis probe", ours, errors, theirs)


def bench_postgres(n: int) -> None:
    print("\n== postgres (PostgreSQL 15 beside prometheus-postgres-exporter) ==")
    pg = Postgres()
    try:
        pg.start_db()
        dsn = f"postgresql://postgres@{pg.address}/postgres?sslmode=disable"
        exporter = HttpExporter(
            "postgres_exporter", ["prometheus-postgres-exporter"], env={"DATA_SOURCE_NAME": dsn}
        )
        with exporter.start_exporter():
            theirs = _http_latencies(exporter.url, n)
            service = _service("postgres", pg.address, user="postgres", dbname="postgres")
            ours, errors = asyncio.run(_module_latencies(service, n))
    finally:
        pg.close()
    _row("postgres_exporter /metrics", theirs)
    _compare("postgres probe", ours, errors, theirs)


def bench_http(n: int) -> None:
    print("\n== http (a JSON health endpoint beside prometheus-blackbox-exporter) ==")

    with Blackbox() as blackbox:

        async def both() -> tuple[list[float], dict[str, str], list[float]]:
            runner, url = await _health_site()
            try:
                probe = f"http://127.0.0.1:{blackbox.port}/probe?module=http_2xx&target={url}"
                theirs = await asyncio.to_thread(_http_latencies, probe, n)
                ours, errors = await _module_latencies(_service("http", url), n)
            finally:
                await runner.cleanup()
            return ours, errors, theirs

        ours, errors, theirs = asyncio.run(both())
    _row("blackbox /probe http_2xx", theirs)
    _compare("http probe", ours, errors, theirs)


def bench_ethereum(n: int) -> None:
    print("\n== ethereum (ganache 7.9; no standard exporter runs here) ==")
    with Ganache() as node:
        ours, errors = asyncio.run(_module_latencies(_service("ethereum", node.url), n))
    _compare("ethereum probe", ours, errors, [])


def bench_mqtt(n: int) -> None:
    print("\n== mqtt (mosquitto 2.0; no standard exporter runs here) ==")
    from exporters.services.mqtt_fixtures import Mosquitto

    with Mosquitto() as broker:
        ours, errors = asyncio.run(_module_latencies(_service("mqtt", broker.address), n))
    _compare("mqtt probe", ours, errors, [])


def bench_docker(n: int) -> None:
    print("\n== docker (dockerd 20.10, 4 busybox containers; no cAdvisor runs here) ==")
    from exporters.services.docker_fixtures import Dockerd, engine_get, import_busybox

    with Dockerd() as engine:
        import_busybox(engine)
        ids = [engine.run(f"bench-{i}", "--cpus", "0.2", "fwtest-busybox:1", "sleep", "600")
               for i in range(4)]  # fmt: skip
        # the Engine's own answer for one container: dockerd collects stats once a second
        theirs = []
        for _ in range(min(n, 5)):
            t0 = time.perf_counter()
            engine_get(engine.socket, f"/containers/{ids[0]}/stats?stream=0&one-shot=1")
            theirs.append(time.perf_counter() - t0)
        ours, errors = asyncio.run(_module_latencies(_service("docker", engine.address), min(n, 5)))
    _row("Engine stats of one container (one-shot)", theirs)
    _compare("docker probe (4 containers, concurrently)", ours, errors, theirs)


BENCHES: list[tuple[Callable[[int], None], tuple[str, ...], bool]] = [
    (bench_redis, ("redis-server", "prometheus-redis-exporter"), False),
    (bench_postgres, (str(PG_BIN / "postgres"), "prometheus-postgres-exporter"), True),
    (bench_http, ("prometheus-blackbox-exporter",), False),
    (bench_ethereum, (str(GANACHE),), False),
    (bench_mqtt, ("mosquitto",), False),
    (bench_docker, ("dockerd", "busybox"), True),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=100)
    args = ap.parse_args()
    print(f"fleetwatch service modules: {args.samples} sequential probes each")
    for bench, binaries, root in BENCHES:
        missing = missing_prerequisites(binaries, root=root)
        if missing:
            print(f"\n== {bench.__name__[6:]}: skipped, missing {', '.join(missing)} ==")
            continue
        bench(args.samples)
    print(
        "\n(cometbft: no node runs here, only a stand-in; see tests/exporters/services for its"
        " comparison with the documented format)"
    )


if __name__ == "__main__":
    main()
