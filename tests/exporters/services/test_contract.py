"""The failure policy every service module shares (services/base.py), through the exporter's
real HTTP server, for every module the registry finds:

- the server is down (a closed loopback port): HTTP 200, the success gauge 0, the reason
  counted in ``fleetwatch_probe_errors_total{module,reason}``;
- a bug in the module (its metric builder or parser raises ``RuntimeError``) against a server
  that answers: HTTP 503 with ``reason="internal"``, counted, logged once with its traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from exporters.services.docker_fixtures import Dockerd
from exporters.services.mqtt_fixtures import Mosquitto
from fleetwatch.exporters import registry
from fleetwatch.exporters.server import Exporter
from fleetwatch.exporters.services import _cadvisor, cometbft, ethereum, http, mqtt, postgres
from fleetwatch.exporters.services import redis as redis_module
from fleetwatch.exporters.services.base import ServiceModule
from fleetwatch.inventory import inventory_from_text
from servers import free_port, require

SERVICE_MODULES = [n for n in registry.module_names() if n not in registry.HOST_MODULES]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected bug")


@dataclass(frozen=True)
class Case:
    #: the module's address for a loopback port
    address: Callable[[int], str]
    #: the fixture of a server that answers (its address is ``.address``, or a port)
    server: str
    #: (object, attribute) of the module's metric builder or parser that gets the bug
    bug: tuple[Any, str]
    params: str = "{}"


CASES: dict[str, Case] = {
    "postgres": Case(
        lambda p: f"127.0.0.1:{p}", "postgres", (postgres, "add_stat_database"), "{user: postgres}"
    ),
    "redis": Case(lambda p: f"127.0.0.1:{p}", "redis_server", (redis_module, "info_families")),
    "mqtt": Case(lambda p: f"127.0.0.1:{p}", "mosquitto", (mqtt, "sys_families")),
    "http": Case(lambda p: f"http://127.0.0.1:{p}/", "json_server", (http, "emit_body")),
    "cometbft": Case(lambda p: f"http://127.0.0.1:{p}", "json_server", (cometbft, "parse_status")),
    "ethereum": Case(
        lambda p: f"http://127.0.0.1:{p}/", "json_server", (ethereum, "parse_quantity")
    ),
    "docker": Case(lambda p: f"tcp://127.0.0.1:{p}", "dockerd", (_cadvisor.CgroupLayout, "")),
}


def test_every_registered_service_module_has_a_case_and_the_shared_base() -> None:
    assert sorted(CASES) == sorted(SERVICE_MODULES)
    for name in SERVICE_MODULES:
        assert isinstance(registry.create(name), ServiceModule), name


@pytest.fixture(scope="module")
def mosquitto() -> Iterator[Mosquitto]:
    require("mosquitto", "mosquitto_sub")
    with Mosquitto(name="mosquitto-contract") as server:
        yield server


@pytest.fixture(scope="module")
def dockerd() -> Iterator[Dockerd]:
    require("dockerd", "runc", root=True)
    with Dockerd() as server:
        yield server


@dataclass
class Loopback:
    address: str


@contextlib.asynccontextmanager
async def json_server() -> AsyncIterator[Loopback]:
    """An HTTP server that answers every request with a JSON-RPC result (enough for the http,
    cometbft and ethereum modules to reach their parsers)."""

    async def answer(request: web.Request) -> web.Response:
        body = {"jsonrpc": "2.0", "id": 1, "result": "0x1", "status": "pass"}
        return web.Response(text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Loopback(f"127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def _inventory(module: str, address: str, params: str) -> Any:
    text = (
        "version: 1\ndeployments:\n  - name: d\n    provider: loopback\n    services:\n"
        f'      - {{name: svc, module: {module}, address: "{address}", params: {params}}}\n'
    )
    return inventory_from_text(text, "<test>")


async def _own(client: TestClient, family: str, label: str, module: str) -> dict[str, float]:
    """``label`` → value of the exporter's own counter ``family`` for ``module``."""
    text = await (await client.get("/metrics")).text()
    return {
        s.labels[label]: s.value
        for fam in text_string_to_metric_families(text)
        if fam.name == family
        for s in fam.samples
        if s.name == f"{family}_total" and s.labels["module"] == module
    }


async def _errors(client: TestClient, module: str) -> dict[str, float]:
    return await _own(client, "fleetwatch_probe_errors", "reason", module)


def _success_gauge(module: str) -> str:
    mod = registry.create(module)
    assert isinstance(mod, ServiceModule)
    return mod.success.name


@pytest.mark.parametrize("module", SERVICE_MODULES)
async def test_a_server_that_is_down_is_success_0_with_http_200_and_its_reason_counted(
    module: str,
) -> None:
    case = CASES[module]
    inv = _inventory(module, case.address(_closed_port()), case.params)
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "3"}
    async with TestClient(TestServer(Exporter(inv).app())) as client:
        resp = await client.get("/probe", params={"target": "svc"}, headers=headers)
        text = await resp.text()
        assert resp.status == 200, text
        assert f"{_success_gauge(module)} 0.0" in text.splitlines()
        errors = await _errors(client, module)
        outcomes = await _own(client, "fleetwatch_probes", "outcome", module)
    assert outcomes == {"success": 0, "failure": 1}
    assert errors.get("connect") == 1, errors
    assert errors["internal"] == 0 and errors["auth"] == 0, errors  # declared from the start
    assert sum(errors.values()) == 1, errors


@pytest.mark.e2e
@pytest.mark.parametrize("module", SERVICE_MODULES)
async def test_a_bug_in_the_module_is_a_503_internal_logged_once(
    module: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = CASES[module]
    owner, attribute = case.bug
    if module == "docker":  # the parser of the Engine's /info, run by every new connection
        monkeypatch.setattr(owner, "from_info", classmethod(_boom))
    else:
        monkeypatch.setattr(owner, attribute, _boom)
    caplog.set_level(logging.ERROR, logger="fleetwatch.exporters.server")
    async with contextlib.AsyncExitStack() as stack:
        if case.server == "json_server":
            server: Any = await stack.enter_async_context(json_server())
        else:  # a session or module fixture: a real server
            server = request.getfixturevalue(case.server)
        port = int(server.address.rpartition(":")[2]) if module != "docker" else 0
        address = server.address if module == "docker" else case.address(port)
        inv = _inventory(module, address, case.params)
        client = await stack.enter_async_context(TestClient(TestServer(Exporter(inv).app())))
        resp = await client.get("/probe", params={"target": "svc"})
        text = await resp.text()
        assert resp.status == 503, text
        assert text == "target svc: internal: RuntimeError: injected bug\n"
        errors = await _errors(client, module)
    assert errors.get("internal") == 1, errors
    assert sum(errors.values()) == 1, errors
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1, caplog.records
    assert "RuntimeError: injected bug" in caplog.text
