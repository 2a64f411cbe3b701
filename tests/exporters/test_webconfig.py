"""``--web.config.file`` in the exporter-toolkit format: HTTPS, client certificates and basic
auth with bcrypt hashes, served for real on loopback and asked with real TLS clients."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path

import bcrypt
import pytest

from fleetwatch.errors import ConfigErrors
from fleetwatch.exporters.server import Exporter, serve
from fleetwatch.exporters.webconfig import load_web_config
from fleetwatch.inventory import inventory_from_text
from service_servers import self_signed_cert

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
INV = "version: 1\ndeployments:\n  - {name: d, provider: p, hosts: [{name: me, address: x}]}\n"


def _config(tmp: Path, body: str) -> Path:
    path = tmp / "web.yml"
    path.write_text(body)
    return path


async def _serve(config: Path) -> AsyncIterator[str]:
    from servers import free_port

    port = free_port()
    runner = await serve(
        Exporter(inventory_from_text(INV, "<t>")), "127.0.0.1", port, load_web_config(config)
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _get(url: str, context: ssl.SSLContext | None, auth: str | None = None) -> int:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + b64encode(auth.encode()).decode())
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path)


async def test_https_with_basic_auth(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    crt, key = cert
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")
    config = _config(
        tmp_path,
        f"""tls_server_config:
  cert_file: {crt.name}
  key_file: {key.name}
  min_version: TLS12
basic_auth_users:
  prometheus: {hashed}
""",
    )  # relative paths: from the config's folder
    client = ssl.create_default_context(cafile=str(crt))
    async for where in _serve(config):
        base = f"https://{where}"
        asks = [
            ("/metrics", "prometheus:s3cret"),
            ("/metrics", "prometheus:s3cret"),  # remembered the second time
            ("/metrics", None),
            ("/metrics", "prometheus:wrong"),
            ("/probe?target=me", "nobody:s3cret"),
            ("/-/healthy", None),  # health checks need no password
        ]
        codes = [await asyncio.to_thread(_get, base + p, client, a) for p, a in asks]
        assert codes == [200, 200, 401, 401, 401, 200]
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # plain HTTP to TLS
            await asyncio.to_thread(_get, f"http://{where}/metrics", None)


async def test_client_certificates_are_required_when_asked(
    tmp_path: Path, cert: tuple[Path, Path]
) -> None:
    crt, key = cert
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    client_crt, client_key = self_signed_cert(client_dir)
    config = _config(
        tmp_path,
        f"""tls_server_config:
  cert_file: {crt}
  key_file: {key}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {client_crt}
""",
    )
    anonymous = ssl.create_default_context(cafile=str(crt))
    known = ssl.create_default_context(cafile=str(crt))
    known.load_cert_chain(str(client_crt), str(client_key))
    async for where in _serve(config):
        assert await asyncio.to_thread(_get, f"https://{where}/metrics", known) == 200
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            await asyncio.to_thread(_get, f"https://{where}/metrics", anonymous)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("basic_auth_users:\n  admin: hunter2\n",
         "web.yml:2: must be a bcrypt hash ($2y$...), not a password (basic_auth_users.admin)"),
        ("tls_server_config:\n  cert_file: a.pem\n",
         "web.yml:1: cert_file and key_file are both required for TLS (tls_server_config)"),
        ("http_server_config: {http2: true}\n",
         "web.yml:1: 'http_server_config' is not supported by fleetwatch"),
        ("tls_server_config: {cert_file: a, key_file: b, client_auth_type: Maybe}\n",
         "web.yml:1: must be one of NoClientCert"),
    ],
)  # fmt: skip
def test_bad_web_configs_name_line_and_key(tmp_path: Path, body: str, expected: str) -> None:
    path = _config(tmp_path, body)
    with pytest.raises(ConfigErrors) as err:
        load_web_config(path)
    messages = [e.message.replace(str(tmp_path) + "/", "") for e in err.value.errors]
    assert any(m.startswith(expected) for m in messages), messages
    assert not any("hunter2" in m for m in messages)
