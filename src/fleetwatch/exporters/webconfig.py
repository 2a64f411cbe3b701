"""``--web.config.file``: TLS and basic auth in the format every Prometheus exporter shares
(prometheus/exporter-toolkit's web configuration), so one file serves node_exporter and
fleetwatch alike.

Understood::

    tls_server_config:
      cert_file: PATH              # with key_file: serve HTTPS
      key_file: PATH
      client_auth_type: NoClientCert | RequestClientCert | RequireAnyClientCert |
                        VerifyClientCertIfGiven | RequireAndVerifyClientCert
      client_ca_file: PATH         # for the Verify* types
      min_version: TLS12 | TLS13   # default TLS12
      max_version: TLS12 | TLS13
    basic_auth_users:              # user: bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\\n')
      prometheus: $2y$10$...

Other keys of the format (``http_server_config``, ``cipher_suites``...) are refused by name
rather than ignored: a security setting that silently does nothing is worse than an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BasicAuth, web

from fleetwatch.config.findings import Findings
from fleetwatch.config.inputs import read_input
from fleetwatch.config.yamlpos import load_yaml

CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
_TLS_KEYS = {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
             "max_version"}  # fmt: skip
#: paths that need no password (Prometheus' health checks; the exporter's own are harmless)
OPEN_PATHS = frozenset({"/-/healthy"})


@dataclass(frozen=True)
class WebConfig:
    file: str
    tls: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)  # user → bcrypt hash

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"


def load_web_config(path: str | Path) -> WebConfig:
    """Read and check ``path``; ConfigError naming file, line and key for every problem."""
    name = str(path)
    doc = load_yaml(read_input(path, "web config file"), name)
    findings = Findings(name, doc)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        findings.add((), "expected a mapping (tls_server_config:, basic_auth_users:)")
        raise findings.error()
    for key in data:
        if key not in ("tls_server_config", "basic_auth_users"):
            findings.add((key,), f"{key!r} is not supported by fleetwatch (only "
                         "tls_server_config and basic_auth_users)")  # fmt: skip
    tls = _tls(data.get("tls_server_config"), Path(name).parent, findings)
    users = _users(data.get("basic_auth_users"), findings)
    if findings:
        raise findings.error()
    return WebConfig(name, tls, users)


def _tls(raw: Any, base: Path, findings: Findings) -> ssl.SSLContext | None:
    if raw is None:
        return None
    path = ("tls_server_config",)
    if not isinstance(raw, dict):
        findings.add(path, "must be a mapping")
        return None
    for key in raw:
        if key not in _TLS_KEYS:
            findings.add((*path, key), f"{key!r} is not supported (known: "
                         f"{', '.join(sorted(_TLS_KEYS))})")  # fmt: skip
    cert, key = raw.get("cert_file"), raw.get("key_file")
    if not cert or not key:
        findings.add(path, "cert_file and key_file are both required for TLS")
        return None
    auth = raw.get("client_auth_type", "NoClientCert")
    if auth not in CLIENT_AUTH:
        findings.add((*path, "client_auth_type"), f"must be one of {', '.join(CLIENT_AUTH)}")
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    for k, attr in (("min_version", "minimum_version"), ("max_version", "maximum_version")):
        if k in raw:
            if raw[k] not in VERSIONS:
                findings.add((*path, k), f"must be one of {', '.join(VERSIONS)}")
                return None
            setattr(context, attr, VERSIONS[raw[k]])
    if "min_version" not in raw:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(_resolve(base, cert), _resolve(base, key))
    except (OSError, ssl.SSLError) as exc:
        findings.add((*path, "cert_file"), f"cannot load the certificate and key: {exc}")
        return None
    context.verify_mode = CLIENT_AUTH[auth]
    ca = raw.get("client_ca_file")
    if auth.startswith(("Verify", "RequireAndVerify")) and not ca:
        findings.add((*path, "client_ca_file"), f"{auth} needs client_ca_file")
        return None
    if ca:
        try:
            context.load_verify_locations(_resolve(base, ca))
        except (OSError, ssl.SSLError) as exc:
            findings.add((*path, "client_ca_file"), f"cannot load the CA: {exc}")
            return None
    return context


def _users(raw: Any, findings: Findings) -> dict[str, bytes]:
    if raw is None:
        return {}
    path = ("basic_auth_users",)
    if not isinstance(raw, dict) or not raw:
        findings.add(path, "must map user names to bcrypt hashes")
        return {}
    users = {}
    for user, hashed in raw.items():
        text = str(hashed)
        if not text.startswith(("$2a$", "$2b$", "$2y$")):
            # never echo the value: it may be a password written where its hash belongs
            findings.add((*path, str(user)), "must be a bcrypt hash ($2y$...), not a password")
            continue
        users[str(user)] = text.replace("$2y$", "$2b$", 1).encode()
    return users


def _resolve(base: Path, value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def basic_auth_middleware(users: dict[str, bytes]) -> Any:
    """401 unless the request carries a user and password whose bcrypt hash matches. bcrypt
    costs ~0.1 s a check by design: it runs off the event loop (probes go on meanwhile), and a
    verified pair is remembered by its SHA-256 (never the password itself)."""
    import bcrypt

    verified: dict[str, bytes] = {}  # user → sha256 of the password that matched

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header) if header else None
        except ValueError:
            auth = None
        hashed = users.get(auth.login) if auth is not None else None
        if auth is not None and hashed is not None:
            secret = auth.password.encode()
            digest = hashlib.sha256(secret).digest()
            known = verified.get(auth.login)
            if known is not None and hmac.compare_digest(known, digest):
                return await handler(request)
            if await asyncio.to_thread(bcrypt.checkpw, secret, hashed):
                verified[auth.login] = digest
                return await handler(request)
        challenge = {"WWW-Authenticate": 'Basic realm="fleetwatch"'}
        return web.Response(status=401, text="Unauthorized\n", headers=challenge)

    return check
