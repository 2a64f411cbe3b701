"""cometbft: a CometBFT (Tendermint) node through its RPC, in the node's own v0.38 names.

``Service.address`` is the RPC base URL (``http://10.0.0.5:26657``).  One probe GETs
``/status``, ``/net_info`` and ``/num_unconfirmed_txs`` concurrently::

    probe_success 1
    cometbft_consensus_height{chain_id="cosmoshub-4"} 1262196
    cometbft_consensus_latest_block_height{chain_id="cosmoshub-4"} 1262196
    cometbft_blocksync_syncing{chain_id="cosmoshub-4"} 0
    cometbft_p2p_peers{chain_id="cosmoshub-4"} 1
    cometbft_mempool_size{chain_id="cosmoshub-4"} 82
    cometbft_mempool_size_bytes{chain_id="cosmoshub-4"} 19974
    cometbft_consensus_validator_power{chain_id="cosmoshub-4",validator_address="5D6A..."} 0
    fleetwatch_cometbft_latest_block_time_seconds{chain_id="cosmoshub-4"} 1.564660342e+09
    fleetwatch_cometbft_block_age_seconds{chain_id="cosmoshub-4"} 4.2
    fleetwatch_cometbft_node_info{chain_id=...,moniker=...,node_id=...,version=...} 1

Names are the native Prometheus metrics of CometBFT v0.38 where the RPC gives the same value
(a dashboard for the node's own ``/metrics`` works on these); the rest carry ``fleetwatch_``.
``chain_id`` (``node_info.network``) is on every chain series because sync lag is computed
across nodes per chain; ``moniker`` is only on the info series (one label per target there).

Failure follows the blackbox exporter: the probe answers, ``probe_success 0``, and the reason
is in ``ProbeResult.errors`` (source ``status``, ``net_info`` or ``num_unconfirmed_txs``).
``probe_success`` is 1 when ``/status`` answered well-formed JSON; a failing ``/net_info`` or
``/num_unconfirmed_txs`` only drops its own series and is reported as an error of that source.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, gauge
from fleetwatch.exporters.services import _jsonclient as rpc
from fleetwatch.exporters.services._jsonclient import (
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

PARAMS_SCHEMA: dict[str, Any] = params_schema("cometbft")

CHAIN = ("chain_id",)
HEIGHT = gauge("cometbft_consensus_height", "Height of the chain.", *CHAIN)
LATEST_HEIGHT = gauge("cometbft_consensus_latest_block_height", "The latest block height.", *CHAIN)
SYNCING = gauge(
    "cometbft_blocksync_syncing",
    "Whether or not a node is block syncing. 1 if yes, 0 if no.",
    *CHAIN,
)
PEERS = gauge("cometbft_p2p_peers", "Number of peers.", *CHAIN)
MEMPOOL_SIZE = gauge("cometbft_mempool_size", "Number of uncommitted transactions.", *CHAIN)
MEMPOOL_BYTES = gauge("cometbft_mempool_size_bytes", "Total size of the mempool in bytes.", *CHAIN)
VALIDATOR_POWER = gauge(
    "cometbft_consensus_validator_power",
    "Voting power of the node's validator key (0 when it is not in the validator set).",
    *CHAIN,
    "validator_address",
)
BLOCK_TIME = gauge(
    "fleetwatch_cometbft_latest_block_time_seconds",
    "Time of the latest block (sync_info.latest_block_time), seconds since the epoch.",
    *CHAIN,
)
BLOCK_AGE = gauge(
    "fleetwatch_cometbft_block_age_seconds",
    "Seconds between the latest block's time and the probe.",
    *CHAIN,
)
NODE_INFO = gauge(
    "fleetwatch_cometbft_node_info",
    "The node's identity from /status, value 1.",
    *CHAIN,
    "moniker",
    "node_id",
    "version",
)
SPECS = (
    SUCCESS,
    DURATION,
    HEIGHT,
    LATEST_HEIGHT,
    SYNCING,
    PEERS,
    MEMPOOL_SIZE,
    MEMPOOL_BYTES,
    VALIDATOR_POWER,
    BLOCK_TIME,
    BLOCK_AGE,
    NODE_INFO,
)

_INT64 = re.compile(r"^-?[0-9]{1,19}$")
# RFC 3339 as Go prints it: up to nanoseconds, "Z" or an offset
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Status:
    chain_id: str
    moniker: str
    node_id: str
    version: str
    height: int
    block_time: float
    catching_up: bool
    validator_address: str
    voting_power: int


@dataclass(frozen=True)
class Mempool:
    size: int
    size_bytes: int


def _obj(doc: Any, key: str, where: str) -> Mapping[str, Any]:
    value = doc.get(key) if isinstance(doc, Mapping) else None
    if not isinstance(value, Mapping):
        raise ParseError(where, f"{key!r} is not an object")
    return value


def _str(doc: Mapping[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ParseError(where, f"{key!r} is not a string: {str(value)[:40]!r}")
    return value


def parse_int64(value: Any, where: str) -> int:
    """A CometBFT int64: a JSON string of digits (a bare JSON integer is accepted too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT64.match(value):
        return int(value)
    raise ParseError(where, f"not an int64 string: {str(value)[:40]!r}")


def parse_time(value: Any, where: str) -> float:
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds."""
    m = _TIME.match(value) if isinstance(value, str) else None
    if m is None:
        raise ParseError(where, f"not an RFC 3339 time: {str(value)[:40]!r}")
    base, frac, zone = m.groups()
    try:
        dt = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        raise ParseError(where, f"not a valid time: {value[:40]!r}") from None
    return dt.astimezone(UTC).timestamp() + (int(frac.ljust(9, "0")) / 1e9 if frac else 0.0)


def parse_status(result: Any) -> Status:
    """The ``result`` of ``/status``."""
    node = _obj(result, "node_info", "/status")
    sync = _obj(result, "sync_info", "/status")
    validator = _obj(result, "validator_info", "/status")
    catching_up = sync.get("catching_up")
    if not isinstance(catching_up, bool):
        raise ParseError("/status", f"catching_up is not a boolean: {str(catching_up)[:20]!r}")
    network = _str(node, "network", "/status node_info")
    if not network:
        raise ParseError("/status", "node_info.network (the chain id) is empty")
    return Status(
        chain_id=network,
        moniker=str(node.get("moniker", "")),
        node_id=str(node.get("id", "")),
        version=str(node.get("version", "")),
        height=parse_int64(sync.get("latest_block_height"), "/status latest_block_height"),
        block_time=parse_time(sync.get("latest_block_time"), "/status latest_block_time"),
        catching_up=catching_up,
        validator_address=str(validator.get("address", "")),
        voting_power=parse_int64(validator.get("voting_power"), "/status voting_power"),
    )


def parse_net_info(result: Any) -> int:
    """Connected peers: ``n_peers`` of ``/net_info``."""
    if not isinstance(result, Mapping):
        raise ParseError("/net_info", "result is not an object")
    return parse_int64(result.get("n_peers"), "/net_info n_peers")


def parse_num_unconfirmed_txs(result: Any) -> Mempool:
    """Mempool size (``total``: every tx, ``n_txs`` may be capped) and ``total_bytes``."""
    if not isinstance(result, Mapping):
        raise ParseError("/num_unconfirmed_txs", "result is not an object")
    where = "/num_unconfirmed_txs"
    return Mempool(
        size=parse_int64(result.get("total"), f"{where} total"),
        size_bytes=parse_int64(result.get("total_bytes"), f"{where} total_bytes"),
    )


def emit_status(out: Families, status: Status, now: float) -> None:
    chain = status.chain_id
    out.add(HEIGHT, status.height, chain)
    out.add(LATEST_HEIGHT, status.height, chain)
    out.add(SYNCING, 1.0 if status.catching_up else 0.0, chain)
    out.add(VALIDATOR_POWER, status.voting_power, chain, status.validator_address)
    out.add(BLOCK_TIME, status.block_time, chain)
    out.add(BLOCK_AGE, max(0.0, now - status.block_time), chain)
    out.add(NODE_INFO, 1, chain, status.moniker, status.node_id, status.version)


class CometbftModule(ServiceModule):
    """The ``cometbft`` service module."""

    name = "cometbft"
    description = "CometBFT / Tendermint node over its RPC: height, sync, peers, mempool"
    grace = 0.5  # each call keeps the deadline itself (aiohttp's total timeout)

    def specs(self) -> list[Spec]:
        return list(SPECS)

    async def collect(self, probe: Probe) -> None:
        base = probe.address.rstrip("/")
        async with new_session(probe.timeout) as session:
            status_doc, net_doc, mempool_doc = await gather_calls(
                *(
                    self._call(session, f"{base}/{path}", path)
                    for path in ("status", "net_info", "num_unconfirmed_txs")
                )
            )
        try:
            status = parse_status(answer(status_doc))
        except (CallError, ParseError) as exc:
            raise rpc.required(exc, "status") from None
        out = probe.out
        emit_status(out, status, time.time())
        with probe.section("net_info"):
            out.add(PEERS, parse_net_info(answer(net_doc)), status.chain_id)
        with probe.section("num_unconfirmed_txs"):
            mempool = parse_num_unconfirmed_txs(answer(mempool_doc))
            out.add(MEMPOOL_SIZE, mempool.size, status.chain_id)
            out.add(MEMPOOL_BYTES, mempool.size_bytes, status.chain_id)

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        return rpc.classify(exc)

    def timed_out(self, probe: Probe) -> ServiceDown:
        return ServiceDown("timeout", "/status: no answer in time", source="status")

    @staticmethod
    async def _call(session: Any, url: str, what: str) -> Any:
        return rpc_result(await fetch_json(session, url, f"/{what}"), f"/{what}")
