"""The product's own services for the tests (they stand in for a user's applications): each
serves, on /metrics, exactly the names of exporters/catalogs/product.yaml that its role owns,
with moving values (a traffic thread: counters increase, histograms observe, gauges move).

    python tests/apps/product_app.py --port P --role api|provider|inference

Roles: ``api`` (identity, market and escrow modules, daily active users), ``provider`` (the
provider daemon: bids, workloads, lease latency), ``inference`` (the ML inference service).
``POST /-/fault?name=N`` turns a fault on (``DELETE`` the same path turns it off):

- ``verify-errors`` (api): every verification ends in ``result="error"``;
- ``settlements`` (api): every settlement fails;
- ``slow-leases`` (provider): every workload takes 45-100 s to run;
- ``timeouts`` (inference): every request times out (observed at the 10 s deadline).

Healthy traffic has a small, fixed failure share (one in 500 verifications, settlements and
inference requests), under every alert threshold and SLO budget of examples/product/rules/.
"""

from __future__ import annotations

import argparse
import itertools
import math
import threading
import time
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

TICK = 0.1
"""Seconds between two traffic steps."""
FAIL_EVERY = 500
TIERS = ("basic", "basic", "verified", "institutional")
MODELS = ("llm-small", "vision-v2")
DENOM = "uprod"
LEASE_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120)
INFERENCE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
DEADLINE = 10.0
HEALTHY_LEASE_S = (2, 3, 4.5, 7, 9, 12, 15, 18, 25)
SLOW_LEASE_S = (45, 70, 100)
HEALTHY_INFERENCE_S = (0.03, 0.04, 0.08, 0.12, 0.2, 0.3, 0.45, 0.7, 1.5, 3)
FAULTS = {
    "api": {"verify-errors", "settlements"},
    "provider": {"slow-leases"},
    "inference": {"timeouts"},
}


class Api:
    """Identity, market and escrow modules of the product's API, and its business figures."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.verifications = Counter(
            "identity_verifications", "Identity verifications finished, by tier and result.",
            ["tier", "result"], registry=r,
        )  # fmt: skip
        self.orders = Counter("market_orders", "Deployment orders placed.", registry=r)
        self.open = Gauge("market_orders_open", "Orders open on the market.", registry=r)
        self.volume = Counter(
            "market_order_volume", "Value of the orders placed.", ["denom"], registry=r
        )
        self.active = Gauge("market_leases_active", "Leases running now.", registry=r)
        self.created = Counter("market_leases_created", "Leases created.", registry=r)
        self.closed = Counter(
            "market_leases_closed", "Leases closed, by reason.", ["reason"], registry=r
        )
        # a gauge named _total, as the product's chain module names it: the value held now
        self.balance = Gauge(
            "escrow_balance_total", "Value held in escrow accounts now.", ["denom"], registry=r
        )
        self.settlements = Counter(
            "escrow_settlements", "Escrow settlements, by result.", ["result"], registry=r
        )
        self.settled = Counter(
            "escrow_settled_amount", "Value paid out by settlements.", ["denom"], registry=r
        )
        self.dau = Gauge(
            "product_daily_active_users", "Distinct users active in the last 24 hours.",
            registry=r,
        )  # fmt: skip
        # every child exists from the first scrape (a failure series at 0, not absent)
        for tier in set(TIERS):
            for result in ("approved", "rejected", "error"):
                self.verifications.labels(tier, result)
        for reason in ("completed", "insufficient_funds", "provider_closed"):
            self.closed.labels(reason)
        for result in ("success", "failure"):
            self.settlements.labels(result)
        self.balance.labels(DENOM).set(2_500_000_000)
        self.active.set(480)
        # one sequence per kind of event: each one's shares (1 in 10 rejected...) hold exactly
        self.verification_n = itertools.count(1)
        self.order_n = itertools.count(1)
        self.settlement_n = itertools.count(1)

    def step(self, faults: set[str], t: float) -> None:
        for _ in range(3):
            n = next(self.verification_n)
            tier = TIERS[n % len(TIERS)]
            if "verify-errors" in faults or n % FAIL_EVERY == 0:
                result = "error"
            else:
                result = "rejected" if n % 10 == 0 else "approved"
            self.verifications.labels(tier, result).inc()
        n = next(self.order_n)
        self.orders.inc()
        self.volume.labels(DENOM).inc(5_000 + 100 * (n % 7))
        self.balance.labels(DENOM).inc(5_000)
        self.open.set(50 + 10 * math.sin(t / 20))
        if n % 2 == 0:
            self.created.inc()
            self.active.inc()
        if n % 3 == 0:
            reason = "insufficient_funds" if n % 20 == 0 else "completed"
            self.closed.labels("provider_closed" if n % 45 == 0 else reason).inc()
            self.active.dec()
        for _ in range(2):
            n = next(self.settlement_n)
            if "settlements" in faults or n % FAIL_EVERY == 0:
                self.settlements.labels("failure").inc()
                continue
            self.settlements.labels("success").inc()
            self.settled.labels(DENOM).inc(2_400)
            self.balance.labels(DENOM).dec(2_400)
        self.dau.set(round(1_200 + 150 * math.sin(t / 60)))


class Provider:
    """The provider daemon: bids on open orders, runs the workloads of its leases."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.bids = Counter("provider_bids", "Bids placed on open orders.", registry=r)
        self.won = Counter("provider_bids_won", "Bids that became a lease.", registry=r)
        self.running = Gauge("provider_workloads_running", "Workloads running.", registry=r)
        self.latency = Histogram(
            "provider_lease_latency_seconds", "Time from an order to its workload running.",
            buckets=LEASE_BUCKETS, registry=r,
        )  # fmt: skip
        self.n = itertools.count(1)

    def step(self, faults: set[str], t: float) -> None:
        n = next(self.n)
        self.bids.inc()
        if n % 3 == 0:
            self.won.inc()
            pick = SLOW_LEASE_S if "slow-leases" in faults else HEALTHY_LEASE_S
            self.latency.observe(pick[n % len(pick)])
        self.running.set(35 + round(5 * math.sin(t / 30)))


class Inference:
    """The ML inference service: requests per model, latency, timeouts at the deadline."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.requests = Counter(
            "inference_requests", "Inference requests, by model.", ["model"], registry=r
        )
        self.timeouts = Counter(
            "inference_timeouts", "Inference requests that timed out, by model.", ["model"],
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "inference_latency_seconds", "Time to answer an inference request, by model.",
            ["model"], buckets=INFERENCE_BUCKETS, registry=r,
        )  # fmt: skip
        for model in MODELS:
            self.requests.labels(model)
            self.timeouts.labels(model)
        self.n = itertools.count(1)

    def step(self, faults: set[str], t: float) -> None:
        for _ in range(10):
            n = next(self.n)
            model = MODELS[n % len(MODELS)]
            self.requests.labels(model).inc()
            if "timeouts" in faults or n % FAIL_EVERY == 0:
                self.timeouts.labels(model).inc()
                self.latency.labels(model).observe(DEADLINE)
            else:
                self.latency.labels(model).observe(
                    HEALTHY_INFERENCE_S[n % len(HEALTHY_INFERENCE_S)]
                )


ROLES: dict[str, Callable[[CollectorRegistry], Api | Provider | Inference]] = {
    "api": Api,
    "provider": Provider,
    "inference": Inference,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--role", choices=sorted(ROLES), required=True)
    args = parser.parse_args()
    # the Go-style exposition the catalog lists: no <name>_created series
    disable_created_metrics()
    registry = CollectorRegistry()
    role = ROLES[args.role](registry)
    faults: set[str] = set()
    lock = threading.Lock()

    def traffic() -> None:
        while True:
            with lock:
                role.step(set(faults), time.time())
            time.sleep(TICK)

    threading.Thread(target=traffic, daemon=True).start()

    def metrics() -> bytes:
        with lock:
            return generate_latest(registry)

    def switch(name: str, on: bool) -> str | None:
        if name not in FAULTS[args.role]:
            return f"no fault {name!r} for role {args.role}"
        with lock:
            (faults.add if on else faults.discard)(name)
        return None

    from app_server import serve_faults  # run as a script: tests/apps/ is on sys.path

    serve_faults(args.port, metrics, switch)


if __name__ == "__main__":
    main()
