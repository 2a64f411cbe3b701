"""ethereum: an Ethereum execution node over JSON-RPC (POST), in EIP-2159 names.

``Service.address`` is the JSON-RPC URL (``http://10.0.0.7:8545``).  One probe sends
``eth_chainId``, ``eth_blockNumber``, ``eth_syncing``, ``net_peerCount``,
``eth_getBlockByNumber("latest", false)`` and ``parity_netPeers`` concurrently (one request
each: not every node or proxy accepts batches)::

    probe_success 1
    ethereum_blockchain_height{chain_id="1337"} 42
    ethereum_best_known_block_number{chain_id="1337"} 42
    ethereum_peer_count{chain_id="1337"} 0
    ethereum_peer_limit{chain_id="1337"} 50           (only when parity_netPeers answers)
    fleetwatch_ethereum_syncing{chain_id="1337"} 0
    fleetwatch_ethereum_latest_block_timestamp_seconds{chain_id="1337"} 1.7e+09
    fleetwatch_ethereum_block_age_seconds{chain_id="1337"} 0.8
    fleetwatch_ethereum_latest_block_transactions{chain_id="1337"} 0

``chain_id`` is ``eth_chainId`` in decimal.  ``ethereum_best_known_block_number`` is
``eth_syncing.highestBlock`` while syncing, else the height (EIP-2159).  No standard RPC call
gives the peer limit: ``parity_netPeers`` (OpenEthereum, Nethermind) does, and when a node does
not know it (geth, ganache) the series is skipped silently.

Failure follows the blackbox exporter: ``probe_success 0`` and the reason in
``ProbeResult.errors``.  ``probe_success`` needs ``eth_chainId`` and ``eth_blockNumber``; the
other calls only drop their own series when they fail.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Spec, gauge
from fleetwatch.exporters.services import _jsonclient as rpc
from fleetwatch.exporters.services._jsonclient import (
    METHOD_NOT_FOUND,
    CallError,
    answer,
    fetch_json,
    gather_calls,
    new_session,
    rpc_result,
)
from fleetwatch.exporters.services.base import (
    DURATION,
    SUCCESS,
    Probe,
    ServiceDown,
    ServiceModule,
    params_schema,
)

PARAMS_SCHEMA: dict[str, Any] = params_schema("ethereum")

CHAIN = ("chain_id",)
HEIGHT = gauge("ethereum_blockchain_height", "The current height of the blockchain", *CHAIN)
BEST_KNOWN = gauge(
    "ethereum_best_known_block_number", "The estimated highest block available", *CHAIN
)
PEERS = gauge("ethereum_peer_count", "The current number of peers connected", *CHAIN)
PEER_LIMIT = gauge("ethereum_peer_limit", "The maximum number of peers this node allows", *CHAIN)
SYNCING = gauge(
    "fleetwatch_ethereum_syncing", "1 while eth_syncing reports a sync in progress", *CHAIN
)
BLOCK_TIME = gauge(
    "fleetwatch_ethereum_latest_block_timestamp_seconds",
    "Timestamp of the latest block, seconds since the epoch.",
    *CHAIN,
)
BLOCK_AGE = gauge(
    "fleetwatch_ethereum_block_age_seconds",
    "Seconds between the latest block's timestamp and the probe.",
    *CHAIN,
)
BLOCK_TXS = gauge(
    "fleetwatch_ethereum_latest_block_transactions",
    "Transactions in the latest block.",
    *CHAIN,
)
SPECS = (
    SUCCESS,
    DURATION,
    HEIGHT,
    BEST_KNOWN,
    PEERS,
    PEER_LIMIT,
    SYNCING,
    BLOCK_TIME,
    BLOCK_AGE,
    BLOCK_TXS,
)

_HEX = frozenset("0123456789abcdefABCDEF")

METHODS: tuple[tuple[str, list[Any]], ...] = (
    ("eth_chainId", []),
    ("eth_blockNumber", []),
    ("eth_syncing", []),
    ("net_peerCount", []),
    ("eth_getBlockByNumber", ["latest", False]),
    ("parity_netPeers", []),
)


def parse_quantity(value: Any, where: str) -> int:
    """A JSON-RPC QUANTITY: ``0x``-prefixed hex, at most 256 bits (``0x0`` is zero).

    Leading zeros are tolerated (some nodes send ``0x01``); anything else raises ParseError.
    """
    if isinstance(value, str) and value.startswith("0x") and 2 < len(value) <= 66:
        digits = value[2:]
        if all(c in _HEX for c in digits):
            return int(digits, 16)
    raise ParseError(where, f"not a hex quantity: {str(value)[:40]!r}")


def parse_syncing(result: Any, height: int) -> tuple[bool, int]:
    """(syncing, best known block) from ``eth_syncing``: ``false`` or an object."""
    if result is False:
        return False, height
    if not isinstance(result, Mapping):
        raise ParseError("eth_syncing", f"expected false or an object, got {str(result)[:40]!r}")
    highest = parse_quantity(result.get("highestBlock"), "eth_syncing highestBlock")
    return True, max(highest, height)


def parse_block(result: Any) -> tuple[float, int]:
    """(timestamp, transaction count) of a block object from ``eth_getBlockByNumber``."""
    if not isinstance(result, Mapping):
        raise ParseError("eth_getBlockByNumber", "result is not a block object")
    stamp = parse_quantity(result.get("timestamp"), "eth_getBlockByNumber timestamp")
    txs = result.get("transactions")
    if not isinstance(txs, list):
        raise ParseError("eth_getBlockByNumber", "transactions is not a list")
    return float(stamp), len(txs)


def parse_peer_limit(result: Any) -> int | None:
    """``max`` of ``parity_netPeers`` (None when the answer has none)."""
    if not isinstance(result, Mapping) or "max" not in result:
        return None
    value = result["max"]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_quantity(value, "parity_netPeers max")


#: calls without which the probe fails (``probe_success`` 0)
REQUIRED = ("eth_chainId", "eth_blockNumber")


class EthereumModule(ServiceModule):
    """The ``ethereum`` service module."""

    name = "ethereum"
    description = "Ethereum execution node over JSON-RPC: height, sync, peers, latest block"
    grace = 0.5  # each call keeps the deadline itself (aiohttp's total timeout)

    def specs(self) -> list[Spec]:
        return list(SPECS)

    async def collect(self, probe: Probe) -> None:
        async with new_session(probe.timeout) as session:
            answers = await gather_calls(
                *(
                    _call(session, probe.address, i, method, args)
                    for i, (method, args) in enumerate(METHODS, start=1)
                )
            )
        results = dict(zip((m for m, _ in METHODS), answers, strict=True))
        values: dict[str, int] = {}
        failed: list[ServiceDown] = []
        for method in REQUIRED:
            try:
                values[method] = parse_quantity(answer(results[method]), method)
            except (CallError, ParseError) as exc:
                failed.append(rpc.required(exc, method))
        if failed:
            for other in failed[1:]:
                probe.errors[str(other.source)] = str(other)
            raise failed[0]
        self._emit(probe, results, str(values["eth_chainId"]), values["eth_blockNumber"])

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        return rpc.classify(exc)

    def timed_out(self, probe: Probe) -> ServiceDown:
        return ServiceDown("timeout", "eth_chainId: no answer in time", source="eth_chainId")

    @staticmethod
    def _emit(probe: Probe, results: dict[str, Any], chain: str, height: int) -> None:
        out = probe.out
        out.add(HEIGHT, height, chain)
        with probe.section("eth_syncing"):
            syncing, best = parse_syncing(answer(results["eth_syncing"]), height)
            out.add(BEST_KNOWN, best, chain)
            out.add(SYNCING, 1.0 if syncing else 0.0, chain)
        with probe.section("net_peerCount"):
            peers = parse_quantity(answer(results["net_peerCount"]), "net_peerCount")
            out.add(PEERS, peers, chain)
        with probe.section("eth_getBlockByNumber"):
            stamp, txs = parse_block(answer(results["eth_getBlockByNumber"]))
            out.add(BLOCK_TIME, stamp, chain)
            out.add(BLOCK_AGE, max(0.0, time.time() - stamp), chain)
            out.add(BLOCK_TXS, txs, chain)
        try:
            peer_limit = parse_peer_limit(answer(results["parity_netPeers"]))
        except (CallError, ParseError):
            peer_limit = None  # optional: most nodes do not offer it
        if peer_limit is not None:
            out.add(PEER_LIMIT, peer_limit, chain)


async def _call(
    session: aiohttp.ClientSession, url: str, ident: int, method: str, args: list[Any]
) -> Any:
    payload = {"jsonrpc": "2.0", "id": ident, "method": method, "params": args}
    try:
        return rpc_result(await fetch_json(session, url, method, payload=payload), method)
    except CallError as exc:
        if exc.code == METHOD_NOT_FOUND and method == "parity_netPeers":
            return None
        raise
