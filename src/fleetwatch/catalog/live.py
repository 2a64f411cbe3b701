"""Catalogs from live servers: a Prometheus' API, an application's ``/metrics`` page.

Every request is bounded in time (``timeout`` for the whole read) and size; any failure is
one ``FleetwatchError`` naming the URL.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from fleetwatch.catalog.model import METRIC_TYPES, Catalog, Metric, MetricType
from fleetwatch.errors import FetchError

#: the largest answer read (a /metrics page, or Prometheus' metadata of ~50,000 names)
MAX_BYTES = 32 * 1024 * 1024
_CHUNK = 1 << 16


def fetch(url: str, timeout: float = 10.0, max_bytes: int = MAX_BYTES) -> bytes:
    """The body of GET ``url``, read within ``timeout`` seconds and ``max_bytes``."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"{url}: not an http(s) URL")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "text/plain;version=0.0.4, */*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: no complete answer within {timeout:g} s")
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url}: answer larger than {max_bytes // (1 << 20)} MiB")
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        exc.close()  # the error holds the open response
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchError(f"{url}: {exc.reason}") from None
    except TimeoutError:
        raise FetchError(f"{url}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise FetchError(f"{url}: {exc.strerror or exc}") from None


def _api(base: str, path: str, timeout: float) -> Any:
    url = base.rstrip("/") + path
    body = fetch(url, timeout)
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError(f"{url}: the answer is not JSON (is this a Prometheus?)") from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error", "") if isinstance(doc, dict) else ""
        raise FetchError(f"{url}: the API did not answer success {str(error)[:200]}".rstrip())
    return doc.get("data")


def from_prometheus(url: str, timeout: float = 10.0) -> Catalog:
    """Names (``/api/v1/label/__name__/values``) and types (``/api/v1/metadata``) of a live
    Prometheus; names without metadata (recording rules, pushed series) are untyped."""
    deadline = time.monotonic() + timeout
    names = _api(url, "/api/v1/label/__name__/values", timeout)
    left = max(0.5, deadline - time.monotonic())
    metadata = _api(url, "/api/v1/metadata", left)
    if not isinstance(names, list) or not isinstance(metadata, dict):
        raise FetchError(f"{url}: unexpected API answer (names or metadata of the wrong shape)")
    source = f"Prometheus at {url}"
    metrics: dict[str, Metric] = {}
    for family, entries in metadata.items():
        if not isinstance(family, str) or not isinstance(entries, list) or not entries:
            continue
        entry = entries[0] if isinstance(entries[0], dict) else {}
        kind = str(entry.get("type", "untyped")).lower()
        kind = kind if kind in METRIC_TYPES else "untyped"
        text = entry.get("help", "")
        metrics[family] = Metric(
            family, _kind(kind), help=text if isinstance(text, str) else "", source=source
        )
    catalog = Catalog.of(metrics.values())
    extra = [
        Metric(n, "untyped", source=source)
        for n in names
        if isinstance(n, str) and catalog.lookup(n) is None
    ]
    return catalog.merge(Catalog.of(extra))


def _kind(kind: str) -> MetricType:
    return kind  # type: ignore[return-value]
