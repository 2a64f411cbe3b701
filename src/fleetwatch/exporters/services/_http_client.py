"""One GET on a fresh connection, timed by phase as the blackbox exporter's http prober.

``fetch`` returns an ``Answer`` (status, body, redirects, TLS version, leaf certificate expiry,
elapsed time) or raises ``ServiceDown`` (``kind: detail``).  The phases come from
aiohttp's request tracing (``Timings``, summed over redirects); the TLS handshake is timed by
the SSL object itself (``tls_context``).  ``build_headers`` reads the header secrets at use time.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp

from fleetwatch import __version__
from fleetwatch.errors import ConfigError
from fleetwatch.exporters.services.base import ServiceDown
from fleetwatch.inventory.model import read_secret

MAX_BODY = 10 * 1024 * 1024
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
USER_AGENT = f"fleetwatch/{__version__}"


@dataclass
class Timings:
    """Phase durations gathered from aiohttp's trace events (summed over redirects)."""

    resolve: float = 0.0
    connect: float = 0.0
    processing: float = 0.0
    transfer: float = 0.0
    tls: float = 0.0
    resolve_at_connect: float = 0.0
    _marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        self._marks[name] = time.perf_counter()

    def since(self, name: str) -> float:
        start = self._marks.pop(name, None)
        return 0.0 if start is None else time.perf_counter() - start


def phases(t: Timings) -> dict[str, float]:
    """blackbox's five phases (aiohttp's connection event holds the handshake: take it out)."""
    return {
        "resolve": t.resolve,
        "connect": max(0.0, t.connect - t.tls),
        "tls": t.tls,
        "processing": t.processing,
        "transfer": t.transfer,
    }


def cert_not_after(der: bytes) -> float:
    """notAfter of a DER certificate, seconds since the epoch."""
    from cryptography import x509  # asyncssh's dependency; only https probes need it

    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()


def _trace_config() -> aiohttp.TraceConfig:
    tc = aiohttp.TraceConfig()

    def timings(ctx: SimpleNamespace) -> Timings:
        found: Timings = ctx.trace_request_ctx["timings"]
        return found

    async def dns_start(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        timings(ctx).mark("dns")

    async def dns_end(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        t = timings(ctx)
        t.resolve += t.since("dns")

    async def conn_start(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        t = timings(ctx)
        t.mark("conn")
        t.resolve_at_connect = t.resolve

    async def conn_end(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        # aiohttp resolves inside its connection event: DNS time is not connect time
        t = timings(ctx)
        t.connect += max(0.0, t.since("conn") - (t.resolve - t.resolve_at_connect))

    async def headers_sent(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        timings(ctx).mark("sent")

    async def answered(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        t = timings(ctx)
        t.processing += t.since("sent")

    tc.on_dns_resolvehost_start.append(dns_start)
    tc.on_dns_resolvehost_end.append(dns_end)
    tc.on_connection_create_start.append(conn_start)
    tc.on_connection_create_end.append(conn_end)
    tc.on_request_headers_sent.append(headers_sent)
    tc.on_request_redirect.append(answered)
    tc.on_request_end.append(answered)
    return tc


@dataclass
class Answer:
    status: int
    version: float
    content_length: int
    body: bytes
    redirects: int
    ssl_used: bool
    cert_expiry: float | None
    tls_version: str | None
    elapsed: float


def build_headers(params: Mapping[str, Any], target: Any) -> dict[str, str]:
    """Request headers from params, secrets read now; ConfigError when a reference fails."""
    headers: dict[str, str] = {"User-Agent": USER_AGENT}
    for name, value in (params.get("headers") or {}).items():
        if name.lower() in SECRET_HEADERS:
            raise ConfigError(
                "<params>", f"header {name} may hold a secret: use headers_env or headers_file"
            )
        headers[str(name)] = str(value)
    for key, is_env in (("headers_env", True), ("headers_file", False)):
        for name, ref in (params.get(key) or {}).items():
            secret = read_secret(str(ref) if is_env else None, None if is_env else str(ref), name)
            headers[str(name)] = secret or ""
    token = target.secret("bearer_token") if hasattr(target, "secret") else None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@dataclass
class Handshake:
    """What one TLS handshake showed: its duration, protocol version and leaf certificate."""

    seconds: float
    version: str | None
    der: bytes | None


def tls_context(params: Mapping[str, Any], seen: list[Handshake]) -> ssl.SSLContext:
    """A client context that records every handshake it completes into ``seen``.

    aiohttp hands out neither the handshake time nor (for small bodies, already released) the
    connection; ``SSLContext.sslobject_class``, the documented hook on the objects asyncio drives
    the handshake through, gives both.
    """
    ca = params.get("ca_file")
    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    if params.get("insecure_skip_verify"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

    class Recording(ssl.SSLObject):
        _began: float | None = None

        def do_handshake(self) -> None:
            if self._began is None:
                self._began = time.perf_counter()
            super().do_handshake()  # raises SSLWantReadError until the peer has answered
            der = self.getpeercert(binary_form=True)
            seen.append(Handshake(time.perf_counter() - self._began, self.version(), der))

    ctx.sslobject_class = Recording
    return ctx


async def fetch(
    url: str, headers: dict[str, str], params: Mapping[str, Any], timings: Timings, timeout: float
) -> Answer:
    """One GET on a fresh connection, with phase timings; ``ServiceDown`` without an answer."""
    t0 = time.perf_counter()
    handshakes: list[Handshake] = []
    context = tls_context(params, handshakes) if url.lower().startswith("https:") else True
    connector = aiohttp.TCPConnector(ssl=context, force_close=True, limit=1)
    session = aiohttp.ClientSession(
        connector=connector,
        trace_configs=[_trace_config()],
        timeout=aiohttp.ClientTimeout(total=timeout),
        trust_env=False,
    )
    try:
        async with session.get(
            url,
            headers=headers,
            allow_redirects=bool(params.get("follow_redirects", True)),
            trace_request_ctx={"timings": timings},
        ) as resp:
            body_start = time.perf_counter()
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_chunked(65536):
                size += len(chunk)
                if size > MAX_BODY:
                    raise ServiceDown("body", f"larger than {MAX_BODY} bytes")
                chunks.append(chunk)
            timings.transfer += time.perf_counter() - body_start
            header_length = resp.headers.get("Content-Length", "")
            last = handshakes[-1] if handshakes and resp.url.scheme == "https" else None
            timings.tls = sum(h.seconds for h in handshakes)
            return Answer(
                status=resp.status,
                version=resp.version.major + resp.version.minor / 10 if resp.version else 0.0,
                content_length=int(header_length) if header_length.isdigit() else -1,
                body=b"".join(chunks),
                redirects=len(resp.history),
                ssl_used=resp.url.scheme == "https",
                cert_expiry=cert_not_after(last.der) if last and last.der else None,
                tls_version=last.version if last else None,
                elapsed=time.perf_counter() - t0,
            )
    except TimeoutError:
        raise ServiceDown("timeout", f"no answer within {timeout:.3g} s") from None
    except aiohttp.ClientConnectorCertificateError as exc:
        raise ServiceDown("tls", str(exc.certificate_error)) from None
    except aiohttp.ClientConnectorError as exc:
        raise ServiceDown("connect", str(exc.os_error.strerror or exc.os_error)) from None
    except aiohttp.TooManyRedirects:
        raise ServiceDown("redirects", "too many redirects") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise ServiceDown("http", f"{type(exc).__name__}: {exc}"[:194]) from None
    finally:
        await session.close()
