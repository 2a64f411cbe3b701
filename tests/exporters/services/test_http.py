"""http: against loopback aiohttp servers (http, https) and beside the real blackbox exporter."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from fleetwatch.exporters import registry
from fleetwatch.exporters.module import ProbeResult
from fleetwatch.exporters.services.http import (
    PARAMS_SCHEMA,
    HttpModule,
    health_of,
    lookup,
    numeric,
    tls_version_label,
)
from fleetwatch.inventory import Service
from servers import free_port, require
from service_servers import BLACKBOX, Blackbox, self_signed_cert, service_target

TOKEN = "t0ken-not-logged"


async def _text(_: web.Request) -> web.Response:
    return web.Response(text="hello, world\n")


async def _influx_pass(_: web.Request) -> web.Response:
    doc = {"name": "influxdb", "message": "ready for queries and writes", "status": "pass"}
    return web.json_response({**doc, "checks": [], "version": "2.7.1", "commit": "407fa622e9"})


async def _influx_fail(_: web.Request) -> web.Response:
    doc = {"name": "influxdb", "message": "not ready", "status": "fail", "checks": []}
    return web.json_response(doc, status=503)


async def _keycloak_up(_: web.Request) -> web.Response:
    return web.json_response({"status": "UP", "checks": []})


async def _keycloak_down(_: web.Request) -> web.Response:
    return web.json_response({"status": "DOWN", "checks": []}, status=503)


async def _rate_limit(_: web.Request) -> web.Response:
    doc = {"resources": {"core": {"limit": 5000, "remaining": "4999", "reset": 1372700873}}}
    return web.json_response({**doc, "items": [{"used": 1}], "ok": True, "name": "api"})


async def _html(_: web.Request) -> web.Response:
    return web.Response(text="<html><body>maintenance</body></html>", content_type="text/html")


async def _redirect(_: web.Request) -> web.Response:
    raise web.HTTPFound("/text")


async def _missing(_: web.Request) -> web.Response:
    return web.Response(status=404, text="not here")


async def _slow(_: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="late")


async def _auth(request: web.Request) -> web.Response:
    ok = request.headers.get("Authorization") == f"Bearer {TOKEN}"
    ok = ok and request.headers.get("X-Api-Key") == "key-from-env"
    ok = ok and request.headers.get("X-Plain") == "plain"
    return web.Response(status=200 if ok else 401, text="ok" if ok else "denied")


ROUTES = {
    "/text": _text,
    "/influx/health": _influx_pass,
    "/influx/fail": _influx_fail,
    "/health/ready": _keycloak_up,
    "/health/down": _keycloak_down,
    "/rate_limit": _rate_limit,
    "/html": _html,
    "/redirect": _redirect,
    "/missing": _missing,
    "/slow": _slow,
    "/auth": _auth,
}


@dataclass
class Site:
    url: str
    runner: web.AppRunner


async def start_site(ssl_context: ssl.SSLContext | None = None) -> Site:
    app = web.Application()
    for path, handler in ROUTES.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context).start()
    scheme = "https" if ssl_context else "http"
    return Site(f"{scheme}://127.0.0.1:{port}", runner)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    s = await start_site()
    yield s
    await s.runner.cleanup()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), valid 30 days."""
    require("openssl")
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_site(cert: tuple[Path, Path]) -> AsyncIterator[Site]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    s = await start_site(ctx)
    yield s
    await s.runner.cleanup()


def service(address: str, name: str = "web-01", **params: Any) -> Service:
    return service_target("http", address, name, deployment="web", **params)


async def probe(
    address: str, timeout: float = 5.0, module: HttpModule | None = None, **params: Any
) -> ProbeResult:
    mod = module or HttpModule()
    return await mod.probe(service(address, **params), timeout)


async def test_plain_get(site: Site) -> None:
    result = await probe(f"{site.url}/text")
    fams = result.families
    assert result.errors == {}
    assert fams.get("probe_success") == 1
    assert fams.get("probe_http_status_code") == 200
    assert fams.get("probe_http_content_length") == 13
    assert fams.get("probe_http_uncompressed_body_length") == 13
    assert fams.get("probe_http_version") == 1.1
    assert fams.get("probe_http_ssl") == 0
    assert fams.get("probe_http_redirects") == 0
    phases = {lbl["phase"]: v for lbl, v in fams.samples("probe_http_duration_seconds")}
    assert set(phases) == {"resolve", "connect", "tls", "processing", "transfer"}
    assert phases["tls"] == 0 and phases["connect"] > 0 and phases["processing"] > 0
    duration = fams.get("probe_duration_seconds")
    assert duration is not None and duration >= sum(phases.values()) * 0.5
    assert fams.names() <= {s.name for s in HttpModule().specs()}


async def test_redirect_is_followed(site: Site) -> None:
    result = await probe(f"{site.url}/redirect")
    assert result.families.get("probe_http_redirects") == 1
    assert result.families.get("probe_http_status_code") == 200
    no_follow = await probe(f"{site.url}/redirect", follow_redirects=False)
    assert no_follow.families.get("probe_http_status_code") == 302
    assert no_follow.families.get("probe_success") == 0
    assert no_follow.errors["http"] == "status: 302 not expected"


async def test_status_codes(site: Site) -> None:
    result = await probe(f"{site.url}/missing")
    assert result.families.get("probe_success") == 0
    assert result.families.get("probe_http_status_code") == 404
    assert result.errors["http"] == "status: 404 not expected"
    expected = await probe(f"{site.url}/missing", valid_status_codes=[404])
    assert expected.families.get("probe_success") == 1


@pytest.mark.parametrize(
    ("path", "healthy"),
    [
        ("/influx/health", True),
        ("/influx/fail", False),
        ("/health/ready", True),
        ("/health/down", False),
    ],
)
async def test_health(site: Site, path: str, healthy: bool) -> None:
    result = await probe(f"{site.url}{path}", health=True)
    assert result.families.get("probe_health_status") == (1 if healthy else 0)
    assert result.families.get("probe_success") == (1 if healthy else 0)
    if not healthy:
        assert result.errors["http"].startswith(("unhealthy", "status: 503"))


async def test_health_of_a_200_that_says_fail(site: Site) -> None:
    result = await probe(f"{site.url}/rate_limit", health=True, health_field="resources.core")
    assert result.families.get("probe_health_status") == 0
    assert result.families.get("probe_success") == 0
    assert result.errors["http"].startswith("unhealthy: ")
    html = await probe(f"{site.url}/html", health=True)
    assert html.families.get("probe_health_status") == 0
    assert "not JSON" in html.errors["http"]


async def test_json_fields(site: Site) -> None:
    fields = {
        "rate_limit_remaining": "resources.core.remaining",
        "rate_limit": "resources.core.limit",
        "first_used": "items.0.used",
        "ok": "ok",
        "missing": "resources.search.remaining",
        "text": "name",
    }
    result = await probe(f"{site.url}/rate_limit", json_fields=fields)
    fams = result.families
    assert fams.get("probe_success") == 1
    assert fams.get("probe_json_value", {"field": "rate_limit_remaining"}) == 4999
    assert fams.get("probe_json_value", {"field": "rate_limit"}) == 5000
    assert fams.get("probe_json_value", {"field": "first_used"}) == 1
    assert fams.get("probe_json_value", {"field": "ok"}) == 1
    assert fams.get("probe_json_value", {"field": "missing"}) is None
    assert set(result.errors) == {"json_fields.missing", "json_fields.text"}


async def test_secret_headers(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setenv("FW_TEST_API_KEY", "key-from-env")
    params = {
        "bearer_token_file": str(token_file),
        "headers_env": {"X-Api-Key": "FW_TEST_API_KEY"},
        "headers": {"X-Plain": "plain"},
    }
    result = await probe(f"{site.url}/auth", **params)
    assert result.families.get("probe_http_status_code") == 200
    monkeypatch.delenv("FW_TEST_API_KEY")
    missing = await probe(f"{site.url}/auth", **params)
    assert missing.families.get("probe_success") == 0
    assert missing.errors["http"].startswith("config: ")
    assert TOKEN not in str(missing.errors)
    refused = await probe(f"{site.url}/auth", headers={"Authorization": "Bearer x"})
    assert refused.errors["http"].startswith("config: ")


async def test_dead_port() -> None:
    result = await probe(f"http://127.0.0.1:{free_port()}/")
    fams = result.families
    assert fams.get("probe_success") == 0
    assert fams.get("probe_http_status_code") == 0
    assert result.errors["http"].startswith("connect: ")


async def test_timeout(site: Site) -> None:
    result = await probe(f"{site.url}/slow", timeout=0.3)
    assert result.families.get("probe_success") == 0
    assert result.errors["http"].startswith("timeout: ")


async def test_histogram_lives_across_probes(site: Site) -> None:
    module = HttpModule()
    for _ in range(3):
        result = await probe(f"{site.url}/text", module=module)
    await probe(f"http://127.0.0.1:{free_port()}/", module=module)  # no answer: no observation
    other = await module.probe(service(f"{site.url}/text", name="web-02"), 5.0)
    fams = result.families
    assert fams.get("fleetwatch_http_request_duration_seconds_count") == 3
    assert fams.get("fleetwatch_http_request_duration_seconds_bucket", {"le": "+Inf"}) == 3
    total = fams.get("fleetwatch_http_request_duration_seconds_sum")
    assert total is not None and total > 0
    buckets = sorted(
        (float(lbl["le"]), v)
        for lbl, v in fams.samples("fleetwatch_http_request_duration_seconds_bucket")
    )
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)  # cumulative
    assert other.families.get("fleetwatch_http_request_duration_seconds_count") == 1
    text = result.families.render().decode()
    assert "# TYPE fleetwatch_http_request_duration_seconds histogram" in text
    assert 'fleetwatch_http_request_duration_seconds_bucket{le="0.005"}' in text


async def test_https(tls_site: Site, cert: tuple[Path, Path]) -> None:
    url = f"{tls_site.url}/text"
    refused = await probe(url)
    assert refused.families.get("probe_success") == 0
    assert refused.errors["http"].startswith("tls: ")
    for params in ({"insecure_skip_verify": True}, {"ca_file": str(cert[0])}):
        result = await probe(url, **params)
        fams = result.families
        assert result.errors == {}
        assert fams.get("probe_success") == 1
        assert fams.get("probe_http_ssl") == 1
        [(labels, _)] = fams.samples("probe_tls_version_info")
        assert labels["version"].startswith("TLS 1.")
        expiry = fams.get("probe_ssl_earliest_cert_expiry")
        assert expiry is not None
        assert ssl.cert_time_to_seconds(_not_after(cert[0])) == pytest.approx(expiry, abs=1)
        phases = {lbl["phase"]: v for lbl, v in fams.samples("probe_http_duration_seconds")}
        assert set(phases) == {"resolve", "connect", "tls", "processing", "transfer"}
        assert phases["tls"] > 0 and phases["connect"] > 0


def _not_after(crt: Path) -> str:
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-in", str(crt)],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    return out.strip().split("=", 1)[1]


def test_pure_helpers() -> None:
    doc = {"a": {"b": [{"c": 3}]}}
    assert lookup(doc, "a.b.0.c") == 3
    with pytest.raises(KeyError):
        lookup(doc, "a.b.1.c")
    assert numeric("12.5") == 12.5 and numeric(False) == 0 and numeric("x") is None
    assert numeric(None) is None
    assert health_of({"status": "pass"}) == (True, "pass")
    assert health_of({"status": "UP"}) == (True, "UP")
    assert health_of({"status": "warn"})[0] is True
    assert health_of({"status": "fail"})[0] is False
    assert health_of({"healthy": True}, "healthy") == (True, "true")
    assert health_of({}) == (False, "no 'status' in the body")
    assert tls_version_label("TLSv1.3") == "TLS 1.3"


def test_registry_and_schema() -> None:
    module = registry.create("http")
    assert isinstance(module, HttpModule)
    assert module.pool_size() == 0
    assert "json_fields" in PARAMS_SCHEMA["properties"]


# --- beside the real blackbox exporter --------------------------------------------------------

BLACKBOX_ONLY = {"probe_failed_due_to_regex", "probe_ip_addr_hash", "probe_ip_protocol"}
BLACKBOX_TLS_ONLY = {"probe_ssl_last_chain_expiry_timestamp_seconds", "probe_ssl_last_chain_info"}
FLEETWATCH_ONLY = {"probe_health_status", "probe_json_value"}


@pytest.fixture(scope="module")
def blackbox() -> Iterator[Blackbox]:
    require(BLACKBOX)
    server = Blackbox()
    try:
        server.start()
        yield server
    finally:
        server.close()


def families_of(text: str) -> dict[str, tuple[str, set[tuple[tuple[str, str], ...]]]]:
    """name -> (type, label sets) of an exposition."""
    found = {}
    for fam in text_string_to_metric_families(text):
        labels = {tuple(sorted(s.labels.items())) for s in fam.samples}
        found[fam.name] = (fam.type, labels)
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("tls", [False, True])
async def test_same_names_and_types_as_blackbox(
    blackbox: Blackbox, site: Site, tls_site: Site, tls: bool
) -> None:
    url = f"{tls_site.url if tls else site.url}/text"
    theirs_text = await asyncio.to_thread(
        blackbox.probe, url, "https_insecure" if tls else "http_2xx"
    )
    ours_result = await probe(url, insecure_skip_verify=tls)
    ours = families_of(ours_result.families.render().decode())
    theirs = families_of(theirs_text)
    ours = {n: v for n, v in ours.items() if not n.startswith("fleetwatch_")}
    assert set(ours) - FLEETWATCH_ONLY == set(theirs) - BLACKBOX_ONLY - BLACKBOX_TLS_ONLY
    for name, (typ, labels) in ours.items():
        their_type, their_labels = theirs[name]
        assert typ == their_type, name
        assert labels == their_labels, name
    # both agree on what they saw
    for name in ("probe_success", "probe_http_status_code", "probe_http_content_length"):
        their = {s.name: s.value for f in text_string_to_metric_families(theirs_text)
                 for s in f.samples}[name]  # fmt: skip
        assert ours_result.families.get(name) == their, name
    if tls:
        their_expiry = [
            s.value
            for f in text_string_to_metric_families(theirs_text)
            for s in f.samples
            if s.name == "probe_ssl_earliest_cert_expiry"
        ]
        assert ours_result.families.get("probe_ssl_earliest_cert_expiry") == their_expiry[0]
        assert ours["probe_tls_version_info"][1] == theirs["probe_tls_version_info"][1]
