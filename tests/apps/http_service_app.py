"""A stand-in for a user's HTTP service: exactly the metrics of
exporters/catalogs/http-service.yaml (read by examples/product/dashboards/http-service.yaml and
rules/http-service.yaml), with traffic that moves ten times a second.  ``GET /mode/failing``
makes it answer 30 % of its requests with a 503; ``/mode/healthy`` back, to none.  Like many
clients, it creates a code's series with its first request: while healthy there is no 5xx
series at all, which the dashboard's error ratios must show as 0, not as no data.

    python tests/apps/http_service_app.py --port P
"""

from __future__ import annotations

import argparse
import random

from app_server import serve
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

ROUTES = ("/orders", "/orders/{id}", "/pay")
TARGETS = ("stripe", "geocoder")
POOLS = {"web": 16, "jobs": 4}
QUEUES = ("emails", "reports")

disable_created_metrics()  # serve the catalog's names only, no <name>_created series
REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "http_requests",
    "HTTP requests served, by code, method and route.",
    ["code", "method", "route"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to serve an HTTP request, by method and route.",
    ["method", "route"],
    registry=REGISTRY,
)
WORKERS = Gauge(
    "app_workers_active", "Workers of a pool busy with a task.", ["pool"], registry=REGISTRY
)
WORKERS_MAX = Gauge("app_workers_max", "Size of a worker pool.", ["pool"], registry=REGISTRY)
QUEUE = Gauge("app_task_queue_depth", "Tasks waiting in a queue.", ["queue"], registry=REGISTRY)
EXTERNAL = Histogram(
    "app_external_request_duration_seconds",
    "Time of a call to an external API.",
    ["target"],
    registry=REGISTRY,
)
EXTERNAL_CALLS = Counter(
    "app_external_requests",
    "Calls to an external API, by target and outcome.",
    ["target", "outcome"],
    registry=REGISTRY,
)
RATE_LIMIT = Gauge(
    "app_rate_limit_remaining",
    "Calls an external API still allows in its current rate-limit window.",
    ["target"],
    registry=REGISTRY,
)


def tick(mode: str) -> None:
    """One tenth of a second of traffic: ~60 requests/s over three routes."""
    failure = 0.3 if mode == "failing" else 0.0
    for route in ROUTES:
        for _ in range(random.randint(1, 3)):
            code = "503" if random.random() < failure else "200"
            REQUESTS.labels(code=code, method="GET", route=route).inc()
            LATENCY.labels(method="GET", route=route).observe(random.lognormvariate(-3, 0.7))
    for pool, size in POOLS.items():
        WORKERS_MAX.labels(pool=pool).set(size)
        WORKERS.labels(pool=pool).set(random.randint(0, size))
    for queue in QUEUES:
        QUEUE.labels(queue=queue).set(random.randint(0, 50))
    for target in TARGETS:
        ok = random.random() >= 0.05
        EXTERNAL_CALLS.labels(target=target, outcome="success").inc(int(ok))
        EXTERNAL_CALLS.labels(target=target, outcome="error").inc(int(not ok))
        EXTERNAL.labels(target=target).observe(random.lognormvariate(-2, 0.5))
        RATE_LIMIT.labels(target=target).set(random.randint(100, 1000))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port, REGISTRY, tick)


if __name__ == "__main__":
    main()
