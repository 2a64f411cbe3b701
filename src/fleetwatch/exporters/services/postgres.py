"""The ``postgres`` module: postgres_exporter 0.11's names over one psycopg 3 connection.

One connection per target, kept open across probes as postgres_exporter keeps its own (a new
PostgreSQL connection forks a backend and authenticates: about 10 ms), used within each probe's
deadline (on expiry psycopg cancels the running query; no session ``statement_timeout``, which
pg_settings would then report instead of the server's).  Probes of one target take turns on it;
a probe that fails as a whole closes it, and the next one connects anew.

Like postgres_exporter, a dead database or a refused login is not an HTTP error: ``pg_up 0``
and the reason in ``ProbeResult.errors``.
A failing section (a view missing on an old version, a custom query with a typo) costs that
section only: its reason goes to ``errors[section]`` and the probe goes on.

The families, the longer SQL texts and how rows become samples (pure functions):
``_pg_metrics.py``; inventory-defined queries: ``_pg_custom.py``.
psycopg is imported inside the functions that use it (the module list must load without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from fleetwatch.errors import FleetwatchError, ParseError
from fleetwatch.exporters.families import Families, Spec
from fleetwatch.exporters.module import ProbeResult
from fleetwatch.exporters.services._pg_custom import (
    NAME_RE,
    CustomQuery,
    add_custom,
    parse_custom_queries,
)
from fleetwatch.exporters.services._pg_metrics import (
    SQL_ACTIVITY,
    SQL_ARCHIVER,
    SQL_DATABASE_SIZE,
    SQL_LOCKS,
    SQL_REPLICATION,
    SQL_SETTINGS,
    UP,
    Row,
    add_activity,
    add_archiver,
    add_bgwriter,
    add_conflicts,
    add_locks,
    add_replication,
    add_settings,
    add_sizes,
    add_stat_database,
    add_static,
    postgres_specs,
    setting_metric,
    to_float,
)

if TYPE_CHECKING:
    from fleetwatch.inventory import Host, Service

__all__ = [
    "DEFAULT_PORT",
    "PARAMS_SCHEMA",
    "PostgresModule",
    "conninfo_kwargs",
    "failure_reason",
    "parse_custom_queries",
    "postgres_specs",
    "setting_metric",
    "to_float",
]

DEFAULT_PORT = 5432

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "user": {"type": "string", "minLength": 1},
        "dbname": {"type": "string", "minLength": 1, "default": "postgres"},
        "sslmode": {
            "enum": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
        },
        "password_env": {"type": "string", "minLength": 1},
        "password_file": {"type": "string", "minLength": 1},
        "queries": {
            "type": "array",
            "description": "custom SQL → gauges, as postgres_exporter's custom queries",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "query", "metrics"],
                "properties": {
                    "name": {"type": "string", "pattern": NAME_RE},
                    "query": {"type": "string", "minLength": 1},
                    "metrics": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["column"],
                            "properties": {
                                "column": {"type": "string", "pattern": NAME_RE},
                                "usage": {
                                    "enum": ["gauge", "counter", "label", "discard"],
                                    "default": "gauge",
                                },
                                "help": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}

# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------


def conninfo_kwargs(target: Host | Service, timeout: float) -> dict[str, Any]:
    """psycopg connection arguments from the target (address: ``host:port``, ``[v6]:port``,
    ``host`` or a unix socket directory ``/run/postgresql`` / ``/run/postgresql:5433``)."""
    params: Mapping[str, Any] = getattr(target, "params", {}) or {}
    address = target.address.strip()
    if address.startswith("/"):  # a socket directory, optionally ``/dir:port``
        path, sep, num = address.rpartition(":")
        host, port = (path, int(num)) if sep and num.isdigit() else (address, DEFAULT_PORT)
    elif address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = int(rest.lstrip(":") or DEFAULT_PORT)
    else:
        name, sep, num = address.rpartition(":")
        host, port = (name, int(num)) if sep and num.isdigit() else (address, DEFAULT_PORT)
    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "dbname": str(params.get("dbname") or "postgres"),
        "connect_timeout": max(1, math.ceil(timeout)),
        "application_name": "fleetwatch",
        "autocommit": True,
    }
    if params.get("user"):
        kwargs["user"] = str(params["user"])
    if params.get("sslmode"):
        kwargs["sslmode"] = str(params["sslmode"])
    secret = getattr(target, "secret", None)
    password = secret("password") if callable(secret) else None
    if password is not None:
        kwargs["password"] = password
    return kwargs


def failure_reason(exc: BaseException) -> str:
    """A short ``kind: detail`` for ProbeResult.errors (never the password)."""
    import psycopg

    if isinstance(exc, TimeoutError):
        return "timeout: no complete answer within the probe deadline"
    if isinstance(exc, psycopg.OperationalError):
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        lowered = str(exc).lower()
        kind = "auth" if "authentication" in lowered or "password" in lowered else "connect"
        return f"{kind}: {text}"
    if isinstance(exc, psycopg.Error):
        return f"query: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
    if isinstance(exc, ParseError):
        return f"parse: {exc}"
    if isinstance(exc, FleetwatchError):
        return f"config: {exc}"
    if isinstance(exc, OSError):
        return f"connect: {exc.strerror or exc}"
    return f"internal: {type(exc).__name__}: {exc}"


class PostgresModule:
    """PostgreSQL: postgres_exporter names, plus inventory-defined SQL → gauges."""

    name = "postgres"
    description = "PostgreSQL with psycopg: postgres_exporter names, custom SQL queries as gauges"

    def __init__(self) -> None:
        # target name -> (connection parameters, open connection); a lock per target
        self._conns: dict[str, tuple[dict[str, Any], Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def specs(self) -> list[Spec]:
        return postgres_specs()

    async def probe(self, target: Host | Service, timeout: float) -> ProbeResult:
        fams = Families()
        errors: dict[str, str] = {}
        lock = self._locks.setdefault(target.name, asyncio.Lock())
        try:
            params: Mapping[str, Any] = getattr(target, "params", {}) or {}
            queries = parse_custom_queries(params.get("queries"))  # before any connection
            async with asyncio.timeout(timeout), lock:
                import psycopg

                for attempt in (1, 2):
                    conn, reused = await self._connection(target, timeout)
                    try:
                        await self._collect(conn, queries, fams, errors)
                        break
                    except psycopg.OperationalError:
                        # a kept connection the server closed (restart, idle timeout,
                        # pg_terminate_backend): once more on a new one
                        self._drop(target.name)
                        if not reused or attempt == 2:
                            raise
                        fams, errors = Families(), {}
                    except BaseException:
                        self._drop(target.name)
                        raise
            fams.add(UP, 1)
        except Exception as exc:  # a dead or refusing server is pg_up 0, as postgres_exporter
            self._drop(target.name)
            fams = Families()
            fams.add(UP, 0)
            errors = {"postgres": failure_reason(exc)}
        return ProbeResult(fams, errors)

    async def _connection(self, target: Host | Service, timeout: float) -> tuple[Any, bool]:
        """The target's connection, and whether it was kept from an earlier probe."""
        import psycopg
        from psycopg.rows import dict_row

        kwargs = conninfo_kwargs(target, timeout)
        # the connect timeout follows the probe's; the secret is read anew each time: a
        # changed password or address makes a new connection
        key = {k: v for k, v in kwargs.items() if k != "connect_timeout"}
        cached = self._conns.get(target.name)
        if cached is not None and cached[0] == key and not cached[1].closed:
            return cached[1], True
        self._drop(target.name)
        conn = await psycopg.AsyncConnection.connect(**kwargs, row_factory=dict_row)
        self._conns[target.name] = (key, conn)
        return conn, False

    def _drop(self, name: str) -> None:
        cached = self._conns.pop(name, None)
        if cached is not None:
            with contextlib.suppress(Exception):
                cached[1].pgconn.finish()  # no round trip: the server may be gone

    async def _collect(
        self, conn: Any, queries: list[CustomQuery], fams: Families, errors: dict[str, str]
    ) -> None:
        import psycopg

        async def rows(sql: str) -> list[dict[str, Any]]:
            async with conn.cursor() as cur:
                await cur.execute(sql.encode())
                fetched: list[dict[str, Any]] = await cur.fetchall()
                return fetched

        async def section(name: str, sql: str, use: Callable[[list[Row]], None]) -> None:
            try:
                use(list(await rows(sql)))
            except (psycopg.Error, ParseError) as exc:
                if isinstance(exc, psycopg.OperationalError) and conn.closed:
                    raise
                errors[name] = failure_reason(exc)

        await section(
            "static",
            "SELECT version(), current_setting('server_version')",
            lambda r: add_static(fams, r),
        )
        await section(
            "stat_database",
            "SELECT * FROM pg_stat_database",
            lambda r: add_stat_database(fams, r),
        )
        await section(
            "stat_database_conflicts",
            "SELECT * FROM pg_stat_database_conflicts",
            lambda r: add_conflicts(fams, r),
        )
        await section("database", SQL_DATABASE_SIZE, lambda r: add_sizes(fams, r))
        await section("settings", SQL_SETTINGS, lambda r: add_settings(fams, r))
        await section("stat_activity", SQL_ACTIVITY, lambda r: add_activity(fams, r))
        await section("locks", SQL_LOCKS, lambda r: add_locks(fams, r))
        await section("bgwriter", "SELECT * FROM pg_stat_bgwriter", lambda r: add_bgwriter(fams, r))
        await section("archiver", SQL_ARCHIVER, lambda r: add_archiver(fams, r))
        await section("replication", SQL_REPLICATION, lambda r: add_replication(fams, r))
        for query in queries:
            await section(
                f"query:{query.name}",
                query.query,
                lambda r, q=query: add_custom(fams, q, r),  # type: ignore[misc]
            )

    async def close(self) -> None:
        for name in list(self._conns):
            cached = self._conns.pop(name)
            with contextlib.suppress(Exception):
                await cached[1].close()

    def pool_size(self) -> int:
        return len(self._conns)
