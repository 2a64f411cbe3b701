"""A CometBFT node's native metrics (instrumentation.prometheus = true, :26660/metrics) for the
tests; a CometBFT node cannot run here.  Names, types and labels are CometBFT's v0.38 ones
(docs/explanation/core/metrics.md, consensus/metrics.go; the shipped catalog
src/fleetwatch/catalog/data/cometbft.yaml): every series has ``chain_id``, every consensus_*
series is a gauge (total_txs included) except the block interval histogram, whose buckets are
CometBFT's ``exprange`` 0.1 s to 100 s in 8 steps.

    python tests/apps/cometbft_node.py --port P --chain-id C [--block-seconds 1]

The chain is a function of the clock: one block every ``--block-seconds`` since a fixed epoch,
so every node of a chain started with the same arguments reports the same height, whenever it
started.  Values are computed at each scrape (nothing runs between scrapes).
``POST /-/fault?name=halt`` halts the chain as when a third of the voting power goes offline:
the height stops, the round of the stuck height climbs (one per ``ROUND_SECONDS``, CometBFT's
propose / prevote / precommit timeouts), two of the three peers are gone; the missing-power
gauges keep the latest commit's values (that commit had enough power, by construction).
``DELETE`` the same path resumes block production from the halted height.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

EPOCH = 1_700_000_000.0
"""The chain's genesis time for the stand-in (heights count blocks since then)."""
ROUND_SECONDS = 3.0
VALIDATORS = 4
POWER_EACH = 10
PEERS = 3
# CometBFT's `metrics:buckettype=exprange; metrics:bucketsizes=0.1, 100, 8`, computed as
# client_golang's ExponentialBucketsRange does (min * factor^i)
_GROWTH = (100 / 0.1) ** (1 / 7)
BLOCK_INTERVAL_BUCKETS = tuple(0.1 * _GROWTH**i for i in range(8))


def go_float(value: float) -> str:
    """A bucket bound as client_golang writes it: the shortest form, no ".0" ("100")."""
    text = repr(value)
    return text.removesuffix(".0")


def total_txs(height: int) -> int:
    """Sum of num_txs(h) = h % 17 for h in 1..height (closed form, the chain from genesis)."""
    q, r = divmod(height + 1, 17)
    return q * (17 * 16 // 2) + r * (r - 1) // 2


class Node(Collector):
    """A validator node of ``chain_id``; ``halt()`` / ``resume()`` flip the fault."""

    def __init__(self, chain_id: str, block_seconds: float) -> None:
        self.chain_id = chain_id
        self.block = block_seconds
        self.started = time.time()
        self.halted_at: float | None = None
        self.offset = 0.0  # seconds of halts so far: the height resumes where it stopped
        self.lock = threading.Lock()

    def halt(self) -> None:
        with self.lock:
            if self.halted_at is None:
                self.halted_at = time.time()

    def resume(self) -> None:
        with self.lock:
            if self.halted_at is not None:
                self.offset += time.time() - self.halted_at
                self.halted_at = None

    def _state(self) -> tuple[int, int, int]:
        """(latest committed height, round of the height in progress, blocks seen since start)."""
        with self.lock:
            now = self.halted_at or time.time()
            rounds = 0 if self.halted_at is None else int((time.time() - now) / ROUND_SECONDS)
            height = int((now - self.offset - EPOCH) / self.block)
            seen = max(0, int((now - self.offset - self.started) / self.block))
        return height, rounds, seen

    def collect(self) -> Iterator[Metric]:
        height, rounds, seen = self._state()
        labels = ["chain_id"]
        values = [self.chain_id]

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            g = GaugeMetricFamily(f"cometbft_{name}", doc, labels=labels)
            g.add_metric(values, value)
            return g

        num_txs = height % 17
        # consensus_height is the height being decided: the latest committed one + 1
        yield gauge("consensus_height", "Height of the chain.", height + 1)
        yield gauge("consensus_latest_block_height", "The latest block height.", height)
        yield gauge("consensus_validators", "Number of validators.", VALIDATORS)
        yield gauge("consensus_validators_power", "Total power of all validators.",
                    VALIDATORS * POWER_EACH)  # fmt: skip
        yield gauge("consensus_missing_validators", "Number of validators who did not sign.", 0)
        yield gauge("consensus_missing_validators_power",
                    "Total power of the missing validators.", 0)  # fmt: skip
        yield gauge("consensus_byzantine_validators",
                    "Number of validators who tried to double sign.", 0)  # fmt: skip
        yield gauge("consensus_byzantine_validators_power",
                    "Total power of the byzantine validators.", 0)  # fmt: skip
        yield gauge("consensus_rounds", "Number of rounds.", rounds)
        yield gauge("consensus_num_txs", "Number of transactions.", num_txs)
        yield gauge("consensus_total_txs", "Total number of transactions.", total_txs(height))
        yield gauge("consensus_block_size_bytes", "Size of the block.", 1_000 + 250 * num_txs)
        interval = HistogramMetricFamily(
            "cometbft_consensus_block_interval_seconds",
            "Time between this and the last block.",
            labels=labels,
        )
        buckets = [(go_float(le), float(seen if le >= self.block else 0))
                   for le in BLOCK_INTERVAL_BUCKETS]  # fmt: skip
        interval.add_metric(values, [*buckets, ("+Inf", float(seen))], seen * self.block)
        yield interval
        yield gauge("p2p_peers", "Number of peers.", PEERS if self.halted_at is None else 1)
        yield gauge("mempool_size", "Size of the mempool (number of uncommitted transactions).",
                    5 + height % 11)  # fmt: skip
        yield gauge("blocksync_syncing", "Whether or not a node is block syncing.", 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chain-id", required=True)
    parser.add_argument("--block-seconds", type=float, default=1.0)
    args = parser.parse_args()
    node = Node(args.chain_id, args.block_seconds)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(node)

    def switch(name: str, on: bool) -> str | None:
        if name != "halt":
            return "the only fault is name=halt"
        (node.halt if on else node.resume)()
        return None

    from app_server import serve_faults  # run as a script: tests/apps/ is on sys.path

    serve_faults(args.port, lambda: generate_latest(registry), switch)


if __name__ == "__main__":
    main()
