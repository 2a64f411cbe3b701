"""The stand-ins serve exactly what the example content expects: the three product roles
together expose every family of exporters/catalogs/product.yaml and nothing else, with its
type and labels; the CometBFT stand-in only families of the shipped cometbft catalog, with
their types and label sets.  Values move: counters increase, the faults show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import (
    CollectorRegistry,
    disable_created_metrics,
    enable_created_metrics,
    generate_latest,
)

from apps import cometbft_node, product_app
from fleetwatch.catalog.exposition import parse_families
from fleetwatch.catalog.loaders import load_catalog
from fleetwatch.catalog.model import Catalog
from fleetwatch.catalog.shipped import shipped_catalog

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_CATALOG = ROOT / "exporters" / "catalogs" / "product.yaml"


def _exposition(registry: CollectorRegistry) -> Catalog:
    return parse_families(generate_latest(registry).decode(), "<app>")


def _role(name: str, steps: int = 3, faults: frozenset[str] = frozenset()) -> CollectorRegistry:
    registry = CollectorRegistry()
    role = product_app.ROLES[name](registry)
    for i in range(steps):
        role.step(set(faults), 1_000.0 + i)
    return registry


def _families(catalog: Catalog) -> dict[str, tuple[str, frozenset[str]]]:
    return {name: (m.type, m.labels or frozenset()) for name, m in catalog.metrics.items()}


@pytest.fixture
def no_created() -> Iterator[None]:
    """As product_app's main() runs: no <name>_created series (prometheus_client's switch is
    process-wide, so it is turned back on after the test)."""
    disable_created_metrics()
    try:
        yield
    finally:
        enable_created_metrics()


@pytest.mark.usefixtures("no_created")
def test_the_product_roles_serve_the_catalog_exactly() -> None:
    served: dict[str, tuple[str, frozenset[str]]] = {}
    for role in product_app.ROLES:
        families = _families(_exposition(_role(role)))
        assert not set(families) & set(served), role
        served |= families
    # counters by their /metrics name (with _total) on both sides
    assert served == _families(load_catalog(PRODUCT_CATALOG))


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, (name, labels)
    return value


def test_healthy_traffic_moves_and_each_fault_shows() -> None:
    api = _role("api", steps=10)
    assert _value(api, "market_orders_total") == 10
    assert _value(api, "escrow_settlements_total", result="success") == 20
    assert _value(api, "escrow_settlements_total", result="failure") == 0
    assert _value(api, "escrow_balance_total", denom="uprod") != 2_500_000_000
    failing = _role("api", steps=10, faults=frozenset({"settlements", "verify-errors"}))
    assert _value(failing, "escrow_settlements_total", result="success") == 0
    assert _value(failing, "escrow_settlements_total", result="failure") == 20
    errors = sum(
        _value(failing, "identity_verifications_total", tier=t, result="error")
        for t in set(product_app.TIERS)
    )
    assert errors == 30
    slow = _role("provider", steps=30, faults=frozenset({"slow-leases"}))
    assert _value(slow, "provider_lease_latency_seconds_bucket", le="30.0") == 0
    assert _value(slow, "provider_lease_latency_seconds_count") == 10
    assert _value(_role("provider", steps=30), "provider_lease_latency_seconds_bucket",
                  le="30.0") == 10  # fmt: skip
    timeouts = _role("inference", steps=5, faults=frozenset({"timeouts"}))
    assert _value(timeouts, "inference_timeouts_total", model="llm-small") == 25
    assert _value(_role("inference", steps=5), "inference_timeouts_total", model="llm-small") == 0


def _node(halted: bool = False) -> tuple[cometbft_node.Node, CollectorRegistry]:
    node = cometbft_node.Node("hub-1", 1.0)
    if halted:
        node.halt()
        assert node.halted_at is not None
        node.halted_at -= 10 * cometbft_node.ROUND_SECONDS  # halted a while ago
    registry = CollectorRegistry(auto_describe=False)
    registry.register(node)
    return node, registry


def test_cometbft_stand_in_serves_cometbft_names_types_and_labels() -> None:
    _, registry = _node()
    served = _families(_exposition(registry))
    shipped = _families(shipped_catalog("cometbft"))
    assert len(served) >= 15
    for name, (kind, labels) in served.items():
        assert name in shipped, name
        want_kind, want_labels = shipped[name]
        assert kind == want_kind, name
        assert labels == want_labels, name


def test_cometbft_height_follows_the_clock_and_halts() -> None:
    _, a = _node()
    _, b = _node()
    height = _value(a, "cometbft_consensus_height", chain_id="hub-1")
    assert abs(height - _value(b, "cometbft_consensus_height", chain_id="hub-1")) <= 1
    assert _value(a, "cometbft_consensus_rounds", chain_id="hub-1") == 0
    node, halted = _node(halted=True)
    assert _value(halted, "cometbft_consensus_rounds", chain_id="hub-1") == 10
    stuck = _value(halted, "cometbft_consensus_latest_block_height", chain_id="hub-1")
    assert stuck < height - 1
    node.resume()
    assert _value(halted, "cometbft_consensus_rounds", chain_id="hub-1") == 0
    assert _value(halted, "cometbft_consensus_latest_block_height", chain_id="hub-1") == (
        pytest.approx(stuck, abs=1)
    )


def test_block_interval_buckets_are_written_as_go_writes_them() -> None:
    assert cometbft_node.go_float(100.0) == "100"
    assert cometbft_node.go_float(0.1) == "0.1"
    text = generate_latest(_node()[1]).decode()
    bounds = [
        line.split('le="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("cometbft_consensus_block_interval_seconds_bucket")
    ]
    assert len(bounds) == 9 and bounds[-1] == "+Inf", bounds
    assert not any(b.endswith(".0") for b in bounds), bounds


def test_total_txs_is_the_sum_of_num_txs() -> None:
    assert [cometbft_node.total_txs(h) for h in range(5)] == [0, 1, 3, 6, 10]
    assert cometbft_node.total_txs(40) == sum(h % 17 for h in range(41))
