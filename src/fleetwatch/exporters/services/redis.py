"""The ``redis`` module: redis_exporter 1.45's names from INFO ALL over a plain RESP connection.

One connection per probe (no pool): AUTH when a password is set, ``INFO ALL``, ``CONFIG GET
databases`` / ``io-threads`` (optional: refused on managed Redis), ``SLOWLOG``, and the key checks
of ``params["check_keys"]`` (``"key"`` or ``"db:key"``) as ``redis_key_size{db,key}`` so job
queues (BullMQ ``bull:<q>:wait``, RQ ``rq:queue:<q>``, Celery ``<queue>``) show their depth.

Like redis_exporter, a dead server, a refused login or an answer that is not RESP is not an
HTTP error: the probe answers with ``redis_up 0`` and the reason in
``ProbeResult.errors["redis"]`` (``services/base.py``; a bug of the module is a 503).
The families and the INFO parser (pure functions; garbage raises ``ParseError``):
``_redis_metrics.py``; the RESP client: ``_redis_wire.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fleetwatch.errors import FleetwatchError, ParseError
from fleetwatch.exporters.families import Families, Spec
from fleetwatch.exporters.services._redis_metrics import (
    CONFIG_IO_THREADS,
    KEY_SIZE,
    KEY_VALUE,
    LAST_SLOW,
    SLOWLOG_LAST_ID,
    SLOWLOG_LENGTH,
    UP,
    info_families,
    parse_info,
    redis_specs,
    to_number,
)
from fleetwatch.exporters.services._redis_wire import (
    ProtocolError,
    RedisReplyError,
    RespConnection,
    RespValue,
    split_address,
)
from fleetwatch.exporters.services.base import Probe, ServiceDown, ServiceModule, params_schema

__all__ = [
    "PARAMS_SCHEMA",
    "RedisModule",
    "classify",
    "info_families",
    "parse_check_key",
    "parse_info",
    "redis_specs",
    "split_address",
]

PARAMS_SCHEMA: dict[str, Any] = params_schema("redis")


def parse_check_key(item: str) -> tuple[int, str]:
    """``"2:jobs"`` → (2, "jobs"); ``"bull:q:wait"`` → (0, "bull:q:wait") (a non-numeric
    prefix is part of the key)."""
    prefix, sep, rest = item.partition(":")
    if sep and rest and prefix.isdigit():
        return int(prefix), rest
    return 0, item


SIZE_COMMANDS: dict[str, str] = {
    "list": "LLEN",
    "set": "SCARD",
    "zset": "ZCARD",
    "hash": "HLEN",
    "stream": "XLEN",
    "string": "STRLEN",
}


# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------


def _as_int(value: RespValue) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    return None


async def _config_int(conn: RespConnection, name: str) -> int | None:
    try:
        reply = await conn.call("CONFIG", "GET", name)
    except RedisReplyError:  # CONFIG renamed or denied by ACL: optional
        return None
    if isinstance(reply, list) and len(reply) >= 2:
        return _as_int(reply[1])
    return None


async def _slowlog(conn: RespConnection, fams: Families) -> None:
    try:
        length = await conn.call("SLOWLOG", "LEN")
        last = await conn.call("SLOWLOG", "GET", "1")
    except RedisReplyError:
        return
    n = _as_int(length)
    if n is not None:
        fams.add(SLOWLOG_LENGTH, n)
    last_id, duration = 0, 0.0
    if isinstance(last, list) and last and isinstance(last[0], list) and len(last[0]) >= 3:
        entry = last[0]
        last_id = _as_int(entry[0]) or 0
        duration = (_as_int(entry[2]) or 0) / 1e6
    fams.add(SLOWLOG_LAST_ID, last_id)
    fams.add(LAST_SLOW, duration)


async def _check_keys(conn: RespConnection, items: Iterable[str], fams: Families) -> None:
    by_db: dict[int, list[str]] = {}
    for item in items:
        db, key = parse_check_key(item)
        by_db.setdefault(db, []).append(key)
    for db, keys in sorted(by_db.items()):
        await conn.call("SELECT", db)
        for key in keys:
            kind = await conn.call("TYPE", key)
            command = SIZE_COMMANDS.get(str(kind))
            size = _as_int(await conn.call(command, key)) if command else 0
            fams.add(KEY_SIZE, float(size or 0), f"db{db}", key)
            if kind == "string":
                value = await conn.call("GET", key)
                number = to_number(value) if isinstance(value, str) else None
                if number is not None:
                    fams.add(KEY_VALUE, number, f"db{db}", key)
    if by_db:
        await conn.call("SELECT", 0)


def classify(exc: Exception) -> ServiceDown | None:
    """What an error of the RESP client or the INFO parser says of the server (never a
    secret); None for anything else: a bug."""
    if isinstance(exc, TimeoutError):
        return ServiceDown("timeout", "no complete answer within the probe deadline")
    if isinstance(exc, RedisReplyError):
        text = str(exc)
        kind = "auth" if text.split(" ", 1)[0] in {"WRONGPASS", "NOAUTH", "NOPERM"} else "reply"
        if "password" in text.lower() and kind == "reply":
            kind = "auth"
        return ServiceDown(kind, text)
    if isinstance(exc, ParseError):
        return ServiceDown("parse", str(exc))
    if isinstance(exc, ProtocolError | asyncio.IncompleteReadError | asyncio.LimitOverrunError):
        return ServiceDown("protocol", str(exc))
    if isinstance(exc, FleetwatchError):
        return ServiceDown("config", str(exc))
    if isinstance(exc, OSError):
        return ServiceDown("connect", str(exc.strerror or exc))
    return None


def _check_keys_param(params: Mapping[str, Any]) -> list[str]:
    raw = params.get("check_keys") or []
    if isinstance(raw, str):
        return [k.strip() for k in raw.split(",") if k.strip()]
    return [str(k) for k in raw] if isinstance(raw, Sequence) else []


class RedisModule(ServiceModule):
    """Redis (and protocol-compatible: KeyDB, Valkey, Dragonfly): redis_exporter's names."""

    name = "redis"
    description = "Redis over RESP: redis_exporter names (INFO ALL, key sizes for job queues)"
    success = UP
    duration = None  # redis_exporter has none

    def specs(self) -> list[Spec]:
        return redis_specs()

    async def collect(self, probe: Probe) -> None:
        params = probe.params
        password = probe.secret("password")
        conn = await RespConnection.open(probe.address)
        try:
            if password is not None:
                username = params.get("username")
                if username:
                    await conn.call("AUTH", str(username), password)
                else:
                    await conn.call("AUTH", password)
            text = await conn.call("INFO", "ALL")
            if not isinstance(text, str):
                raise ProtocolError("INFO did not answer a bulk string")
            info = parse_info(text)
            databases = await _config_int(conn, "databases")
            fams = info_families(info, databases)
            io_threads = await _config_int(conn, "io-threads")
            if io_threads is not None:
                fams.add(CONFIG_IO_THREADS, io_threads)
            await _slowlog(conn, fams)
            await _check_keys(conn, _check_keys_param(params), fams)
        finally:
            await conn.close()
        probe.out.merge(fams)

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        return classify(exc)
