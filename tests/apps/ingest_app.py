"""A stand-in for a user's ingest service: exactly the metrics of exporters/catalogs/ingest.yaml
(read by examples/product/dashboards/operator.yaml and rules/operator.yaml), with traffic that
moves ten times a second.  ``GET /mode/failing`` makes it go bad: a burst of authentication
failures, failing alert deliveries, slow writes and a growing quarantine; ``/mode/healthy``
back.

    python tests/apps/ingest_app.py --port P
"""

from __future__ import annotations

import argparse
import random

from app_server import serve
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

TENANTS = ("acme", "globex")
ERROR_REASONS = ("decode", "schema", "store_timeout", "unknown_device")
QUARANTINE_REASONS = ("schema", "oversize")
AUTH_REASONS = ("bad_token", "expired", "unknown_device")
CHANNELS = ("webhook", "email")

disable_created_metrics()  # serve the catalog's names only, no <name>_created series
REGISTRY = CollectorRegistry()
MESSAGES = Counter(
    "ingest_messages", "Messages accepted and written, by tenant.", ["tenant"], registry=REGISTRY
)
WRITE = Histogram(
    "ingest_write_duration_seconds",
    "Time to write one accepted message to the store.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
ERRORS = Counter(
    "ingest_errors", "Messages that failed to ingest, by reason.", ["reason"], registry=REGISTRY
)
QUARANTINED = Counter(
    "ingest_quarantined_messages",
    "Messages set aside in quarantine instead of being written, by reason.",
    ["reason"],
    registry=REGISTRY,
)
RATELIMITED = Counter(
    "ratelimit_events",
    "Requests refused because a tenant exceeded its rate limit, by tenant.",
    ["tenant"],
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "auth_failures",
    "Device or client authentications refused, by reason.",
    ["reason"],
    registry=REGISTRY,
)
ALERTS = Counter("alerts_created", "Alerts raised from the ingested messages.", registry=REGISTRY)
DELIVERIES = Counter(
    "alert_deliveries",
    "Attempts to deliver an alert, by channel and result.",
    ["channel", "result"],
    registry=REGISTRY,
)


def tick(mode: str) -> None:
    """One tenth of a second of traffic, ~100 messages/s.  Healthy: every alert of
    rules/operator.yaml stays silent (0.4 % quarantined, 1 % failed deliveries, p99 write
    ~60 ms, 0.5 auth failures/s).  Failing: ~150 auth failures/s, half the deliveries fail,
    writes take 0.3-1.5 s, 16 % of the messages go to quarantine."""
    failing = mode == "failing"
    for tenant in TENANTS:
        n = random.randint(3, 7)
        MESSAGES.labels(tenant=tenant).inc(n)
        for _ in range(n):
            WRITE.observe(random.uniform(0.3, 1.5) if failing else random.lognormvariate(-4, 0.5))
    for reason in ERROR_REASONS:
        ERRORS.labels(reason=reason).inc(int(random.random() < 0.1))
    for reason in QUARANTINE_REASONS:
        QUARANTINED.labels(reason=reason).inc(int(random.random() < (0.8 if failing else 0.02)))
    RATELIMITED.labels(tenant="globex").inc(int(random.random() < 0.2))
    RATELIMITED.labels(tenant="acme").inc(0)
    for reason in AUTH_REASONS:
        AUTH_FAILURES.labels(reason=reason).inc(random.randint(0, 2) * 5 if failing else 0)
    AUTH_FAILURES.labels(reason="expired").inc(int(random.random() < 0.05))
    ALERTS.inc(int(random.random() < 0.5))
    for channel in CHANNELS:
        ok = random.random() >= (0.5 if failing else 0.01)
        DELIVERIES.labels(channel=channel, result="success").inc(int(ok))
        DELIVERIES.labels(channel=channel, result="failure").inc(int(not ok))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port, REGISTRY, tick)


if __name__ == "__main__":
    main()
