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
``_http_client.tls_context``).  ``probe_ssl_earliest_cert_expiry`` is the leaf certificate's
notAfter: Python 3.11 does not hand out the peer's chain (blackbox takes the earliest over the
chain).

Failure follows blackbox: the module answers ``probe_success 0`` with the reason in
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

The request, its timings and the headers: ``_http_client.py``; health and JSON fields of the
body: ``_http_body.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetwatch.errors import ConfigError
from fleetwatch.exporters.families import Families, Spec, gauge, histogram
from fleetwatch.exporters.services._http_body import (
    HEALTH,
    JSON_VALUE,
    emit_body,
    health_of,
    lookup,
    numeric,
)
from fleetwatch.exporters.services._http_client import (
    Answer,
    Timings,
    build_headers,
    fetch,
    phases,
)
from fleetwatch.exporters.services.base import (
    DURATION,
    SUCCESS,
    Probe,
    ServiceDown,
    ServiceModule,
    params_schema,
)

__all__ = [
    "PARAMS_SCHEMA",
    "SPECS",
    "HttpModule",
    "health_of",
    "lookup",
    "numeric",
    "status_ok",
    "tls_version_label",
]

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_HEADER = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
PARAMS_SCHEMA: dict[str, Any] = params_schema("http")

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


def status_ok(status: int, valid: list[int] | None) -> bool:
    return status in valid if valid else 200 <= status < 300


def tls_version_label(version: str | None) -> str:
    """``TLSv1.3`` (Python) → ``TLS 1.3`` (Go's name, blackbox's label value)."""
    if not version:
        return "unknown"
    return version.replace("TLSv", "TLS ").replace("SSLv", "SSL ")


# --- the module -------------------------------------------------------------------------------


def _failed(down: ServiceDown, resolve: float) -> ServiceDown:
    """What blackbox answers without a response: status code 0 and the DNS time."""
    families = Families()
    families.add(STATUS, 0)
    families.add(DNS_TIME, resolve)
    return ServiceDown(down.reason, down.detail, families=families)


class HttpModule(ServiceModule):
    """The ``http`` service module (blackbox-compatible names)."""

    name = "http"
    description = "HTTP(S) endpoint: blackbox http prober names, health status, JSON fields"
    grace = 0.5  # aiohttp's total timeout keeps the deadline (and says so)

    def __init__(self) -> None:
        self._histograms: dict[str, Histogram] = {}

    def specs(self) -> list[Spec]:
        return list(SPECS)

    async def collect(self, probe: Probe) -> None:
        params, out = probe.params, probe.out
        timings = Timings()
        try:
            headers = build_headers(params, probe.target)
            answer = await fetch(probe.address, headers, params, timings, probe.timeout)
        except ConfigError as exc:
            raise _failed(ServiceDown("config", str(exc)), timings.resolve) from None
        except ServiceDown as exc:
            raise _failed(exc, timings.resolve) from None
        healthy = self._emit_answer(out, probe.errors, params, probe.target.name, answer)
        for phase, seconds in phases(timings).items():
            out.add(PHASES, seconds, phase)
        out.add(DNS_TIME, timings.resolve)
        if not healthy:  # an answer, but not the one expected: the series stay, success is 0
            kind, _, detail = probe.errors.pop("http").partition(": ")
            raise ServiceDown(kind, detail, families=out)

    def timed_out(self, probe: Probe) -> ServiceDown:
        down = ServiceDown("timeout", f"no answer within {probe.timeout:.3g} s")
        return _failed(down, 0.0)

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
