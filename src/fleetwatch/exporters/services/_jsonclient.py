"""JSON over HTTP for the chain-node modules (cometbft, ethereum): fetch, classify, unwrap.

Every way a call can fail becomes a ``CallError(reason, detail)`` with a short ``reason``
(a label value): ``connect`` (refused, unreachable, DNS), ``timeout``, ``http`` (broken
transfer), ``http_status`` (non-2xx without a JSON-RPC error), ``not_json`` (HTML, text),
``rpc_error`` (a JSON-RPC error object) and ``bad_response`` (JSON of the wrong shape).
``CallError`` is a ``ServiceDown``: a failed required call is ``probe_success 0`` with the
reason in ``ProbeResult.errors`` (``base.py``), a failed optional one that part's error only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from fleetwatch.errors import ParseError
from fleetwatch.exporters.services.base import ServiceDown

#: bytes of a body kept in an error detail (enough to recognise an HTML error page)
_SNIPPET = 60
#: JSON-RPC "method not found"
METHOD_NOT_FOUND = -32601


class CallError(ServiceDown):
    """One RPC call failed; ``reason`` is a short label, ``detail`` one line for humans."""

    def __init__(self, reason: str, detail: str, code: int | None = None) -> None:
        super().__init__(reason, detail)
        self.code = code


def _snippet(body: bytes) -> str:
    text = body[:_SNIPPET].decode("utf-8", "replace")
    return " ".join(text.split())


def decode_json(body: bytes, status: int, content_type: str) -> Any:
    """The JSON document of a response body; ``CallError`` when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallError(
            "not_json", f"HTTP {status} {content_type or 'no content type'}: {_snippet(body)!r}"
        ) from None


def rpc_result(doc: Any, what: str) -> Any:
    """The ``result`` of a JSON-RPC 2.0 answer; ``CallError`` for an error object.

    The error may be an object (``{"code": -32603, "message": ..., "data": ...}``, what nodes
    send) or a plain string (how CometBFT's OpenAPI document describes ``ErrorResponse``).
    """
    if not isinstance(doc, Mapping):
        raise CallError("bad_response", f"{what}: expected a JSON object, got {type(doc).__name__}")
    error = doc.get("error")
    if error is not None and error != "":
        if isinstance(error, Mapping):
            code = error.get("code")
            message = str(error.get("message", ""))
            data = error.get("data")
            detail = f"{message} ({data})" if data else message
            raise CallError(
                "rpc_error",
                f"{what}: {code}: {detail}"[:200],
                code if isinstance(code, int) else None,
            )
        raise CallError("rpc_error", f"{what}: {error}"[:200])
    if "result" not in doc:
        raise CallError("bad_response", f"{what}: no 'result' in the answer")
    return doc["result"]


async def fetch_json(
    session: aiohttp.ClientSession,
    url: str,
    what: str,
    *,
    payload: Mapping[str, Any] | list[Any] | None = None,
) -> Any:
    """GET ``url`` (POST ``payload`` as JSON when given) and return the decoded JSON.

    A non-2xx answer whose body is JSON is returned as is (JSON-RPC servers answer errors
    with 4xx/5xx and an error object, which ``rpc_result`` reports); one that is not JSON is
    an ``http_status`` error.
    """
    try:
        if payload is None:
            ctx = session.get(url, allow_redirects=False)
        else:
            ctx = session.post(url, json=payload, allow_redirects=False)
        async with ctx as resp:
            body = await resp.read()
            status, ctype = resp.status, resp.content_type
    except TimeoutError:
        raise CallError("timeout", f"{what}: no answer in time") from None
    except aiohttp.ClientConnectorError as exc:
        raise CallError("connect", f"{what}: {exc.os_error.strerror or exc}") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise CallError("http", f"{what}: {type(exc).__name__}: {exc}"[:200]) from None
    try:
        return decode_json(body, status, ctype)
    except CallError as exc:
        if not 200 <= status < 300:
            raise CallError("http_status", f"{what}: {exc.detail}") from None
        raise CallError(exc.reason, f"{what}: {exc.detail}") from None


def parse_error_to_call(exc: ParseError) -> CallError:
    return CallError("bad_response", str(exc)[:200])


def new_session(timeout: float) -> aiohttp.ClientSession:
    """A session for one probe: no proxy from the environment, a total deadline."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=max(timeout, 0.05)),
        trust_env=False,
        raise_for_status=False,
    )


async def gather_calls(*calls: Any) -> list[Any]:
    """``asyncio.gather`` keeping every outcome: a value or the ``CallError`` it raised."""
    results: list[Any] = await asyncio.gather(*calls, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, CallError | ParseError):
            raise r
    return results


def answer(value: Any) -> Any:
    """One outcome of ``gather_calls``: the value, or the error it ended with raised again."""
    if isinstance(value, BaseException):
        raise value
    return value


def classify(exc: Exception) -> ServiceDown | None:
    """A parser's ``ParseError`` on a node's answer is a bad response; anything else a bug."""
    return ServiceDown("bad_response", str(exc)) if isinstance(exc, ParseError) else None


def required(exc: CallError | ParseError, source: str) -> ServiceDown:
    """A failed required call as the probe's failure, reported under ``source``."""
    down = exc if isinstance(exc, CallError) else ServiceDown("bad_response", str(exc))
    return ServiceDown(down.reason, down.detail, source=source)
