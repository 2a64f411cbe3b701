"""http: an HTTP(S) endpoint, as the blackbox exporter's ``http`` prober reports it.

``Service.address`` is the URL.  One probe is one GET on a fresh connection (as blackbox)::

    probe_success 1
    probe_duration_seconds 0.0042
    probe_dns_lookup_time_seconds 0
    probe_http_status_code 200
    probe_http_duration_seconds{phase="resolve"|"connect"|"tls"|"processing"|"transfer"} ...
    probe_http_content_length 15                  (the header; -1 when absent, as blackbox)
    probe_http_uncompressed_body_length 15
    probe_http_version 1.1
    probe_http_redirects 0
    probe_http_ssl 0
    probe_ssl_earliest_cert_expiry 1.8e+09          (https only)
    probe_tls_version_info{version="TLS 1.3"} 1     (https only)
    probe_health_status 1                          (params.health only)
    probe_json_value{field="rate_limit_remaining"} 4999   (params.json_fields only)
    fleetwatch_http_request_duration_seconds_bucket{le="0.005"} 17   (across probes, see below)

Phases come from aiohttp's request tracing: ``resolve`` (DNS), ``connect`` (TCP), ``processing``
(request sent → response headers), ``transfer`` (headers → end of body), summed over redirects as
blackbox does; ``tls`` (the handshake, 0 for plain http) is timed by the SSL object itself (see
``tls_context``).  ``probe_ssl_earliest_cert_expiry`` is the leaf certificate's notAfter: Python
3.11 does not hand out the peer's chain (blackbox takes the earliest over the chain).

Failure follows blackbox: the module answers ``probe_success 0`` and never raises; the reason is
``ProbeResult.errors["http"]`` (``connect: ...``, ``timeout``, ``status: 503 not expected``,
``unhealthy: ...``, ``tls: ...``, ``config: ...``).

``health: true`` reads the body's ``status`` (or ``health_field``, a dotted path): InfluxDB
``/health`` (``pass``/``fail``), Keycloak ``/health/ready`` and Spring (``UP``/``DOWN``), and
the IETF health-check draft's values (``pass``/``ok``/``up`` healthy, ``warn`` healthy with
concerns, anything else not).  An unhealthy answer also makes ``probe_success`` 0, as a blackbox
``fail_if_body_not_matches_regexp`` would.

``json_fields`` ``{name: "dotted.path"}`` exports numeric body fields (numbers, numeric strings,
booleans as 0/1) as ``probe_json_value{field=name}``.  json_exporter names each metric from its
config; fleetwatch's catalog needs declared names, so it is one family with the name as a label.
A missing or non-numeric field drops its sample and is reported as ``json_fields.<name>``.

The latency histogram: one probe is one observation, so a per-probe histogram would be useless
for p95.  The module keeps a cumulative histogram per target (in memory, reset when the exporter
restarts, which ``rate()`` handles as a counter reset) of the whole request time of every probe
that got an answer, and exposes it as one histogram family (``_bucket{le}``, ``_count``,
``_sum``): ``histogram_quantile(0.95, rate(fleetwatch_http_request_duration_seconds_bucket[5m]))``.

Secrets never sit in params: ``bearer_token_env`` / ``bearer_token_file`` set ``Authorization``,
``headers_env`` / ``headers_file`` map header names to environment variables / files, plain
``headers`` refuse ``Authorization``, ``Proxy-Authorization`` and ``Cookie``.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp

from fleetwatch import __version__
from fleetwatch.errors import ConfigError
from fleetwatch.exporters.families import Families, Spec, gauge, histogram
from fleetwatch.exporters.module import ProbeResult, Target
from fleetwatch.inventory.model import read_secret

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_HEADER = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "valid_status_codes": {
            "type": "array",
            "items": {"type": "integer", "minimum": 100, "maximum": 599},
            "description": "Status codes that count as success (default: any 2xx).",
        },
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
        "follow_redirects": {"type": "boolean", "default": True},
        "insecure_skip_verify": {"type": "boolean", "default": False},
        "ca_file": {"type": "string", "minLength": 1},
        "headers": {
            "type": "object",
            "propertyNames": {"pattern": _HEADER},
            "additionalProperties": {"type": "string"},
            "description": "Plain header values (no secrets: Authorization is refused).",
        },
        "headers_env": {
            "type": "object",
            "propertyNames": {"pattern": _HEADER},
            "additionalProperties": {"type": "string", "minLength": 1},
            "description": "Header name -> environment variable holding its value.",
        },
        "headers_file": {
            "type": "object",
            "propertyNames": {"pattern": _HEADER},
            "additionalProperties": {"type": "string", "minLength": 1},
            "description": "Header name -> file holding its value.",
        },
        "bearer_token_env": {"type": "string", "minLength": 1},
        "bearer_token_file": {"type": "string", "minLength": 1},
        "health": {"type": "boolean", "default": False},
        "health_field": {"type": "string", "minLength": 1, "default": "status"},
        "json_fields": {
            "type": "object",
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {"type": "string", "minLength": 1},
            "description": "Label value -> dotted path of a numeric field in a JSON body.",
        },
    },
}

SUCCESS = gauge("probe_success", "Displays whether or not the probe was a success")
DURATION = gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds")
DNS_TIME = gauge(
    "probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds"
)
STATUS = gauge("probe_http_status_code", "Response HTTP status code")
PHASES = gauge(
    "probe_http_duration_seconds",
    "Duration of http request by phase, summed over all redirects",
    "phase",
)
CONTENT_LENGTH = gauge("probe_http_content_length", "Length of http content response")
BODY_LENGTH = gauge("probe_http_uncompressed_body_length", "Length of uncompressed response body")
VERSION = gauge("probe_http_version", "Returns the version of HTTP of the probe response")
REDIRECTS = gauge("probe_http_redirects", "The number of redirects")
IS_SSL = gauge("probe_http_ssl", "Indicates if SSL was used for the final redirect")
CERT_EXPIRY = gauge("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime")
TLS_VERSION = gauge(
    "probe_tls_version_info", "Returns the TLS version used or NaN when unknown", "version"
)
HEALTH = gauge("probe_health_status", "1 when the body's health status is healthy, else 0")
JSON_VALUE = gauge(
    "probe_json_value", "A numeric field of the JSON body (params.json_fields)", "field"
)
HIST = histogram(
    "fleetwatch_http_request_duration_seconds",
    "Request durations of the probes of this target that got an answer",
)
SPECS = (
    SUCCESS,
    DURATION,
    DNS_TIME,
    STATUS,
    PHASES,
    CONTENT_LENGTH,
    BODY_LENGTH,
    VERSION,
    REDIRECTS,
    IS_SSL,
    CERT_EXPIRY,
    TLS_VERSION,
    HEALTH,
    JSON_VALUE,
    HIST,
)

#: prometheus_client's default buckets: web latencies from 5 ms to 10 s
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
MAX_BODY = 10 * 1024 * 1024
HEALTHY = frozenset({"pass", "ok", "up", "healthy", "green", "warn", "serving"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
USER_AGENT = f"fleetwatch/{__version__}"


# --- pure parts -------------------------------------------------------------------------------


@dataclass
class Histogram:
    """A cumulative latency histogram (one per target, kept across probes)."""

    buckets: tuple[float, ...] = BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1

    def emit(self, out: Families) -> None:
        pairs = [*zip(self.buckets, self.counts, strict=True), (math.inf, self.count)]
        out.add_histogram(HIST, pairs, self.total)


def lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path (``a.b.0.c``: integers index lists); KeyError if absent."""
    value = doc
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(path)
    return value


def numeric(value: Any) -> float | None:
    """A number, a numeric string or a boolean as a float; None for anything else."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def health_of(doc: Any, path: str = "status") -> tuple[bool, str]:
    """(healthy, the status seen) of a health document: InfluxDB, Keycloak, IETF draft."""
    try:
        value = lookup(doc, path)
    except KeyError:
        return False, f"no {path!r} in the body"
    if isinstance(value, bool):
        return value, str(value).lower()
    text = str(value)
    return text.strip().lower() in HEALTHY, text[:40]


def status_ok(status: int, valid: list[int] | None) -> bool:
    return status in valid if valid else 200 <= status < 300


def phases(t: Timings) -> dict[str, float]:
    """blackbox's five phases (aiohttp's connection event holds the handshake: take it out)."""
    return {
        "resolve": t.resolve,
        "connect": max(0.0, t.connect - t.tls),
        "tls": t.tls,
        "processing": t.processing,
        "transfer": t.transfer,
    }


def tls_version_label(version: str | None) -> str:
    """``TLSv1.3`` (Python) → ``TLS 1.3`` (Go's name, blackbox's label value)."""
    if not version:
        return "unknown"
    return version.replace("TLSv", "TLS ").replace("SSLv", "SSL ")


def cert_not_after(der: bytes) -> float:
    """notAfter of a DER certificate, seconds since the epoch."""
    from cryptography import x509  # asyncssh's dependency; only https probes need it

    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()


# --- transport --------------------------------------------------------------------------------


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


class ProbeFailure(Exception):
    """The request failed before an answer (reason is ``kind: detail``)."""


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
    """One GET on a fresh connection, with phase timings; ``ProbeFailure`` without an answer."""
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
                    raise ProbeFailure(f"body: larger than {MAX_BODY} bytes")
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
        raise ProbeFailure(f"timeout: no answer within {timeout:.3g} s") from None
    except aiohttp.ClientConnectorCertificateError as exc:
        raise ProbeFailure(f"tls: {exc.certificate_error}") from None
    except aiohttp.ClientConnectorError as exc:
        raise ProbeFailure(f"connect: {exc.os_error.strerror or exc.os_error}") from None
    except aiohttp.TooManyRedirects:
        raise ProbeFailure("redirects: too many redirects") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise ProbeFailure(f"http: {type(exc).__name__}: {exc}"[:200]) from None
    finally:
        await session.close()


# --- the module -------------------------------------------------------------------------------


def emit_body(
    out: Families, errors: dict[str, str], params: Mapping[str, Any], body: bytes
) -> bool:
    """Health and JSON fields of a body; False when the health check says unhealthy."""
    wants_health = bool(params.get("health"))
    fields: Mapping[str, Any] = params.get("json_fields") or {}
    if not wants_health and not fields:
        return True
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        doc = None
        snippet = " ".join(body[:60].decode("utf-8", "replace").split())
        for name in fields:
            errors[f"json_fields.{name}"] = f"body is not JSON: {snippet!r}"
        if wants_health:
            out.add(HEALTH, 0)
            errors["http"] = f"unhealthy: body is not JSON: {snippet!r}"
            return False
    for name, path in fields.items():
        try:
            value = numeric(lookup(doc, str(path)))
        except KeyError:
            errors[f"json_fields.{name}"] = f"no field {path!r} in the body"
            continue
        if value is None:
            errors[f"json_fields.{name}"] = f"field {path!r} is not numeric"
            continue
        out.add(JSON_VALUE, value, str(name))
    if not wants_health:
        return True
    healthy, seen = health_of(doc, str(params.get("health_field") or "status"))
    out.add(HEALTH, 1 if healthy else 0)
    if not healthy:
        errors["http"] = f"unhealthy: status {seen}"
    return healthy


class HttpModule:
    """The ``http`` service module (blackbox-compatible names)."""

    name = "http"
    description = "HTTP(S) endpoint: blackbox http prober names, health status, JSON fields"

    def __init__(self) -> None:
        self._histograms: dict[str, Histogram] = {}

    def specs(self) -> list[Spec]:
        return list(SPECS)

    async def probe(self, target: Target, timeout: float) -> ProbeResult:
        params: Mapping[str, Any] = getattr(target, "params", {}) or {}
        limit = params.get("timeout_seconds")
        if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0:
            timeout = min(timeout, float(limit))
        out = Families()
        errors: dict[str, str] = {}
        t0 = time.perf_counter()
        timings = Timings()
        success = False
        try:
            headers = build_headers(params, target)
            answer = await asyncio.wait_for(
                fetch(target.address, headers, params, timings, timeout), timeout + 0.5
            )
        except ConfigError as exc:
            errors["http"] = f"config: {exc}"
            out.add(STATUS, 0)
        except ProbeFailure as exc:
            errors["http"] = str(exc)
            out.add(STATUS, 0)
        except TimeoutError:
            errors["http"] = f"timeout: no answer within {timeout:.3g} s"
            out.add(STATUS, 0)
        else:
            success = self._emit_answer(out, errors, params, target.name, answer)
            for phase, seconds in phases(timings).items():
                out.add(PHASES, seconds, phase)
        out.add(DNS_TIME, timings.resolve)
        out.add(SUCCESS, 1 if success else 0)
        out.add(DURATION, time.perf_counter() - t0)
        return ProbeResult(out, errors)

    def _emit_answer(
        self,
        out: Families,
        errors: dict[str, str],
        params: Mapping[str, Any],
        target: str,
        answer: Answer,
    ) -> bool:
        hist = self._histograms.setdefault(target, Histogram())
        hist.observe(answer.elapsed)
        hist.emit(out)
        out.add(STATUS, answer.status)
        out.add(CONTENT_LENGTH, answer.content_length)
        out.add(BODY_LENGTH, len(answer.body))
        out.add(VERSION, answer.version)
        out.add(REDIRECTS, answer.redirects)
        out.add(IS_SSL, 1 if answer.ssl_used else 0)
        if answer.cert_expiry is not None:
            out.add(CERT_EXPIRY, answer.cert_expiry)
        if answer.tls_version is not None:
            out.add(TLS_VERSION, 1, tls_version_label(answer.tls_version))
        valid = params.get("valid_status_codes")
        healthy = emit_body(out, errors, params, answer.body)
        if not status_ok(answer.status, list(valid) if valid else None):
            errors["http"] = f"status: {answer.status} not expected"
            return False
        return healthy

    async def close(self) -> None:
        """Nothing pooled: each probe opens a fresh connection, as blackbox does."""

    def pool_size(self) -> int:
        return 0
