"""ethereum: against a real ganache started by the suite, and a stand-in for broken answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from fleetwatch.errors import ParseError
from fleetwatch.exporters import registry
from fleetwatch.exporters.module import ProbeResult
from fleetwatch.exporters.services.ethereum import (
    PARAMS_SCHEMA,
    EthereumModule,
    parse_block,
    parse_peer_limit,
    parse_quantity,
    parse_syncing,
)
from fleetwatch.inventory import Service
from servers import free_port, require
from service_servers import GANACHE, Ganache, probe_once, rpc, service_target

CHAIN = {"chain_id": "1337"}


@pytest.fixture(scope="module")
def ganache() -> Iterator[Ganache]:
    require(str(GANACHE))
    server = Ganache()
    try:
        server.start()
        yield server
    finally:
        server.close()


def service(address: str, **params: Any) -> Service:
    return service_target("ethereum", address, "geth-01", deployment="chain", **params)


async def probe(address: str, timeout: float = 5.0, **params: Any) -> ProbeResult:
    return await probe_once(EthereumModule(), service(address, **params), timeout)


@pytest.mark.e2e
async def test_real_ganache(ganache: Ganache) -> None:
    result = await probe(ganache.url)
    fams = result.families
    assert result.errors == {}
    assert fams.get("probe_success") == 1
    height = fams.get("ethereum_blockchain_height", CHAIN)
    assert height is not None and height >= 0
    assert abs(int(rpc(ganache.url, "eth_blockNumber"), 16) - height) <= 2
    assert fams.get("ethereum_best_known_block_number", CHAIN) == height
    assert fams.get("ethereum_peer_count", CHAIN) == 0
    assert fams.get("fleetwatch_ethereum_syncing", CHAIN) == 0
    assert fams.get("fleetwatch_ethereum_latest_block_transactions", CHAIN) == 0
    stamp = fams.get("fleetwatch_ethereum_latest_block_timestamp_seconds", CHAIN)
    assert stamp == pytest.approx(time.time(), abs=30)
    age = fams.get("fleetwatch_ethereum_block_age_seconds", CHAIN)
    assert age is not None and 0 <= age < 30
    # ganache has no parity_netPeers: the peer limit is skipped, silently
    assert not fams.samples("ethereum_peer_limit")
    assert fams.names() <= {s.name for s in EthereumModule().specs()}


@pytest.mark.e2e
async def test_real_ganache_height_moves(ganache: Ganache) -> None:
    first = (await probe(ganache.url)).families.get("ethereum_blockchain_height", CHAIN)
    deadline = time.monotonic() + 10
    later = first
    while later == first and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        later = (await probe(ganache.url)).families.get("ethereum_blockchain_height", CHAIN)
    assert first is not None and later is not None and later > first


# --- a stand-in node for answers ganache never gives -----------------------------------------

GOOD: dict[str, Any] = {
    "eth_chainId": "0x1",
    "eth_blockNumber": "0x10d4f2a",
    "eth_syncing": {
        "startingBlock": "0x0",
        "currentBlock": "0x10d4f2a",
        "highestBlock": "0x10d4f40",
    },
    "net_peerCount": "0x19",
    "eth_getBlockByNumber": {
        "number": "0x10d4f2a",
        "timestamp": "0x6553f100",
        "transactions": ["0xaa", "0xbb", "0xcc"],
    },
    "parity_netPeers": {"active": 0, "connected": 25, "max": 50, "peers": []},
}


class StandIn:
    def __init__(self) -> None:
        self.answers: dict[str, Any] = dict(GOOD)
        self.html = False
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.html:
            return web.Response(text="<html><body>Login</body></html>", content_type="text/html")
        call = await request.json()
        answer = self.answers.get(call["method"])
        if isinstance(answer, Exception):
            error = {"code": -32000, "message": str(answer)}
            doc = {"jsonrpc": "2.0", "id": call["id"], "error": error}
            return web.json_response(doc)
        if answer is None:
            error = {"code": -32601, "message": "the method does not exist"}
            return web.json_response({"jsonrpc": "2.0", "id": call["id"], "error": error})
        return web.json_response({"jsonrpc": "2.0", "id": call["id"], "result": answer})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture
async def node() -> AsyncIterator[StandIn]:
    server = StandIn()
    await server.start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


async def test_syncing_node_with_peer_limit(node: StandIn) -> None:
    result = await probe(node.url)
    fams = result.families
    mainnet = {"chain_id": "1"}
    assert result.errors == {}
    assert fams.get("ethereum_blockchain_height", mainnet) == 0x10D4F2A
    assert fams.get("ethereum_best_known_block_number", mainnet) == 0x10D4F40
    assert fams.get("fleetwatch_ethereum_syncing", mainnet) == 1
    assert fams.get("ethereum_peer_count", mainnet) == 25
    assert fams.get("ethereum_peer_limit", mainnet) == 50
    assert fams.get("fleetwatch_ethereum_latest_block_transactions", mainnet) == 3
    assert fams.get("fleetwatch_ethereum_latest_block_timestamp_seconds", mainnet) == 0x6553F100


async def test_rpc_error_on_a_required_call(node: StandIn) -> None:
    node.answers["eth_blockNumber"] = RuntimeError("header not found")
    result = await probe(node.url)
    assert result.families.get("probe_success") == 0
    assert result.errors["eth_blockNumber"].startswith("rpc_error: ")
    assert "header not found" in result.errors["eth_blockNumber"]


async def test_rpc_error_on_an_optional_call(node: StandIn) -> None:
    node.answers["eth_getBlockByNumber"] = RuntimeError("boom")
    node.answers["net_peerCount"] = "twenty"
    result = await probe(node.url)
    assert result.families.get("probe_success") == 1
    assert result.errors["eth_getBlockByNumber"].startswith("rpc_error: ")
    assert result.errors["net_peerCount"].startswith("bad_response: ")
    assert not result.families.samples("ethereum_peer_count")


async def test_html_answer(node: StandIn) -> None:
    node.html = True
    result = await probe(node.url)
    assert result.families.get("probe_success") == 0
    assert result.errors["eth_chainId"].startswith("not_json: ")
    assert "Login" in result.errors["eth_chainId"]


async def test_wrong_types(node: StandIn) -> None:
    node.answers["eth_chainId"] = 1
    result = await probe(node.url)
    assert result.families.get("probe_success") == 0
    assert result.errors["eth_chainId"].startswith("bad_response: ")


async def test_dead_port() -> None:
    result = await probe(f"http://127.0.0.1:{free_port()}/")
    assert result.families.get("probe_success") == 0
    assert result.errors["eth_chainId"].startswith("connect: ")


def test_parsers() -> None:
    assert parse_quantity("0x0", "q") == 0
    assert parse_quantity("0x01", "q") == 1
    for bad in ("0x", "10", "0xzz", 16, None, "0x" + "f" * 65):
        with pytest.raises(ParseError):
            parse_quantity(bad, "q")
    assert parse_syncing(False, 7) == (False, 7)
    assert parse_syncing({"highestBlock": "0x5"}, 7) == (True, 7)
    with pytest.raises(ParseError):
        parse_syncing(True, 7)
    assert parse_block({"timestamp": "0x10", "transactions": []}) == (16.0, 0)
    with pytest.raises(ParseError):
        parse_block({"timestamp": "0x10"})
    assert parse_peer_limit({"max": "0x32"}) == 50
    assert parse_peer_limit({"connected": 1}) is None


def test_registry_and_schema() -> None:
    module = registry.create("ethereum")
    assert isinstance(module, EthereumModule)
    assert PARAMS_SCHEMA["additionalProperties"] is False
