"""cometbft: against a stand-in RPC serving exactly the JSON of CometBFT v0.38's OpenAPI document.

No CometBFT binary can be installed here; the stand-in answers /status, /net_info and
/num_unconfirmed_txs with the OpenAPI examples (int64 values as JSON strings).
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from fleetwatch.errors import ParseError
from fleetwatch.exporters import registry
from fleetwatch.exporters.module import ProbeResult
from fleetwatch.exporters.services.cometbft import (
    PARAMS_SCHEMA,
    CometbftModule,
    parse_int64,
    parse_status,
    parse_time,
)
from fleetwatch.inventory import Service
from servers import free_port
from service_servers import probe_once, service_target

BLOCK_HASH = "790BA84C3545FCCC49A5C629CEE6EA58A6E875C3862175BDC11EE7AF54703501"
APP_HASH = "C9AEBB441B787D9F1D846DE51F3826F4FD386108B59B08239653ABF59455C3F8"
NODE_INFO: dict[str, Any] = {
    "protocol_version": {"p2p": "7", "block": "10", "app": "0"},
    "id": "5576458aef205977e18fd50b274e9b5d9014525a",
    "listen_addr": "tcp:0.0.0.0:26656",
    "network": "cosmoshub-2",
    "version": "0.32.1",
    "channels": "4020212223303800",
    "moniker": "moniker-node",
    "other": {"tx_index": "on", "rpc_address": "tcp:0.0.0.0:26657"},
}
STATUS: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "result": {
        "node_info": NODE_INFO,
        "sync_info": {
            "latest_block_hash": BLOCK_HASH,
            "latest_app_hash": APP_HASH,
            "latest_block_height": "1262196",
            "latest_block_time": "2019-08-01T11:52:22.818762194Z",
            "earliest_block_hash": BLOCK_HASH,
            "earliest_app_hash": APP_HASH,
            "earliest_block_height": "1262196",
            "earliest_block_time": "2019-08-01T11:52:22.818762194Z",
            "catching_up": False,
        },
        "validator_info": {
            "address": "5D6A51A8E9899C44079C6AF90618BA0369070E6E",
            "pub_key": {
                "type": "tendermint/PubKeyEd25519",
                "value": "A6DoBUypNtUAyEHWtQ9bFjfNg8Bo9CrnkUGl6k6OHN4=",
            },
            "voting_power": "0",
        },
    },
}
MONITOR = {
    "Active": True,
    "Start": "2019-07-31T14:31:28.66Z",
    "Duration": "168901060000000",
    "Idle": "168901040000000",
    "Bytes": "5",
    "Samples": "1",
    "InstRate": "0",
    "CurRate": "0",
    "AvgRate": "0",
    "PeakRate": "0",
    "BytesRem": "0",
    "TimeRem": "0",
    "Progress": 0,
}
NET_INFO: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "result": {
        "listening": True,
        "listeners": ["Listener(@)"],
        "n_peers": "1",
        "peers": [
            {
                "node_info": NODE_INFO,
                "is_outbound": True,
                "connection_status": {
                    "Duration": "168901057956119",
                    "SendMonitor": MONITOR,
                    "RecvMonitor": MONITOR,
                    "Channels": [
                        {
                            "ID": 48,
                            "SendQueueCapacity": "1",
                            "SendQueueSize": "0",
                            "Priority": "5",
                            "RecentlySent": "0",
                        }
                    ],
                },
                "remote_ip": "95.179.155.35",
            }
        ],
    },
}
UNCONFIRMED: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "result": {"n_txs": "31", "total": "82", "total_bytes": "19974"},
}
# ErrorResponse as the OpenAPI document has it (a string), and as nodes send it (an object)
ERROR_STRING = {"jsonrpc": "2.0", "id": 0, "error": "Description of failure"}
ERROR_OBJECT = {
    "jsonrpc": "2.0",
    "id": -1,
    "error": {"code": -32603, "message": "Internal error", "data": "node is shutting down"},
}
BLOCK_TIME = 1564660342.818762194
CHAIN = {"chain_id": "cosmoshub-2"}

Reply = tuple[int, str, str]  # status, content type, body


class StandIn:
    """A loopback aiohttp server whose answers per path the test sets."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.delay = 0.0
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    def set_json(self, path: str, doc: Any, status: int = 200) -> None:
        self.replies[path] = (status, "application/json", json.dumps(doc))

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        status, ctype, body = self.replies.get(request.path, (404, "text/plain", "404 page"))
        return web.Response(status=status, text=body, content_type=ctype)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def node() -> AsyncIterator[StandIn]:
    server = StandIn()
    server.set_json("/status", STATUS)
    server.set_json("/net_info", NET_INFO)
    server.set_json("/num_unconfirmed_txs", UNCONFIRMED)
    await server.start()
    yield server
    await server.stop()


def service(address: str, **params: Any) -> Service:
    return service_target("cometbft", address, "val-01", deployment="chain", **params)


async def probe(address: str, timeout: float = 5.0, **params: Any) -> ProbeResult:
    return await probe_once(CometbftModule(), service(address, **params), timeout)


async def test_documented_answers(node: StandIn) -> None:
    result = await probe(node.url)
    fams = result.families
    assert result.errors == {}
    assert fams.get("probe_success") == 1
    assert fams.get("cometbft_consensus_height", CHAIN) == 1262196
    assert fams.get("cometbft_consensus_latest_block_height", CHAIN) == 1262196
    assert fams.get("cometbft_blocksync_syncing", CHAIN) == 0
    assert fams.get("cometbft_p2p_peers", CHAIN) == 1
    assert fams.get("cometbft_mempool_size", CHAIN) == 82
    assert fams.get("cometbft_mempool_size_bytes", CHAIN) == 19974
    power = {**CHAIN, "validator_address": "5D6A51A8E9899C44079C6AF90618BA0369070E6E"}
    assert fams.get("cometbft_consensus_validator_power", power) == 0
    stamp = fams.get("fleetwatch_cometbft_latest_block_time_seconds", CHAIN)
    assert stamp == pytest.approx(BLOCK_TIME, abs=1e-6)
    age = fams.get("fleetwatch_cometbft_block_age_seconds", CHAIN)
    assert age == pytest.approx(time.time() - BLOCK_TIME, abs=60)
    [(info, value)] = fams.samples("fleetwatch_cometbft_node_info")
    assert value == 1
    assert info == {
        "chain_id": "cosmoshub-2",
        "moniker": "moniker-node",
        "node_id": "5576458aef205977e18fd50b274e9b5d9014525a",
        "version": "0.32.1",
    }
    # every emitted family is declared, and every chain series carries chain_id
    declared = {s.name: s for s in CometbftModule().specs()}
    assert fams.names() <= set(declared)
    for name in fams.names():
        if name.startswith(("cometbft_", "fleetwatch_")):
            assert "chain_id" in declared[name].labels


async def test_catching_up_node(node: StandIn) -> None:
    doc = copy.deepcopy(STATUS)
    doc["result"]["sync_info"]["catching_up"] = True
    node.set_json("/status", doc)
    result = await probe(node.url)
    assert result.families.get("cometbft_blocksync_syncing", CHAIN) == 1


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ((200, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"), "not_json"),
        ((502, "text/html", "<html><body>Bad Gateway</body></html>"), "http_status"),
        ((500, "application/json", json.dumps(ERROR_STRING)), "rpc_error"),
        ((500, "application/json", json.dumps(ERROR_OBJECT)), "rpc_error"),
        ((200, "application/json", "[1, 2, 3]"), "bad_response"),
        ((200, "application/json", '{"jsonrpc": "2.0", "id": 0}'), "bad_response"),
    ],
)
async def test_bad_status_answers(node: StandIn, reply: Reply, reason: str) -> None:
    node.replies["/status"] = reply
    result = await probe(node.url)
    assert result.families.get("probe_success") == 0
    assert result.errors["status"].startswith(f"{reason}: ")
    assert not result.families.samples("cometbft_consensus_height")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("sync_info", "latest_block_height"), "12a"),
        (("sync_info", "latest_block_height"), None),
        (("sync_info", "latest_block_height"), [1]),
        (("sync_info", "latest_block_time"), "yesterday"),
        (("sync_info", "catching_up"), "false"),
        (("node_info", "network"), 7),
        (("validator_info", "voting_power"), 1.5),
    ],
)
async def test_wrong_types_are_bad_responses(
    node: StandIn, path: tuple[str, str], value: Any
) -> None:
    doc = copy.deepcopy(STATUS)
    doc["result"][path[0]][path[1]] = value
    node.set_json("/status", doc)
    result = await probe(node.url)
    assert result.families.get("probe_success") == 0
    assert result.errors["status"].startswith("bad_response: ")


async def test_failing_side_endpoints_keep_the_probe(node: StandIn) -> None:
    node.set_json("/net_info", ERROR_OBJECT, status=500)
    node.set_json("/num_unconfirmed_txs", {"jsonrpc": "2.0", "id": 0, "result": {"n_txs": 1}})
    result = await probe(node.url)
    fams = result.families
    assert fams.get("probe_success") == 1
    assert fams.get("cometbft_consensus_height", CHAIN) == 1262196
    assert not fams.samples("cometbft_p2p_peers")
    assert not fams.samples("cometbft_mempool_size")
    assert result.errors["net_info"].startswith("rpc_error: ")
    assert result.errors["num_unconfirmed_txs"].startswith("bad_response: ")


async def test_dead_port() -> None:
    result = await probe(f"http://127.0.0.1:{free_port()}")
    assert result.families.get("probe_success") == 0
    assert result.errors["status"].startswith("connect: ")
    assert result.families.get("probe_duration_seconds") is not None


async def test_slow_node_is_a_timeout(node: StandIn) -> None:
    node.delay = 2.0
    result = await probe(node.url, timeout=0.3)
    assert result.families.get("probe_success") == 0
    assert result.errors["status"].startswith("timeout: ")


async def test_timeout_param_caps_the_deadline(node: StandIn) -> None:
    node.delay = 2.0
    result = await probe(node.url, timeout=10.0, timeout_seconds=0.3)
    assert result.errors["status"].startswith("timeout: ")


def test_parsers() -> None:
    assert parse_int64("1262196", "x") == 1262196
    assert parse_int64(-5, "x") == -5
    for bad in ("", "1.5", "0x10", True, None, "9" * 20):
        with pytest.raises(ParseError):
            parse_int64(bad, "x")
    assert parse_time("2019-08-01T11:52:22Z", "t") == 1564660342.0
    assert parse_time("2019-08-01T13:52:22.5+02:00", "t") == 1564660342.5
    with pytest.raises(ParseError):
        parse_time("2019-13-01T11:52:22Z", "t")
    status = parse_status(STATUS["result"])
    assert (status.chain_id, status.height, status.catching_up) == ("cosmoshub-2", 1262196, False)


def test_registry_and_schema() -> None:
    assert "cometbft" in registry.module_names()
    module = registry.create("cometbft")
    assert isinstance(module, CometbftModule)
    assert module.pool_size() == 0
    assert PARAMS_SCHEMA["type"] == "object"
