"""The ``postgres`` module: postgres_exporter 0.11's names over one psycopg 3 connection.

One connection per target, kept open across probes as postgres_exporter keeps its own (a new
PostgreSQL connection forks a backend and authenticates: about 10 ms), used within each probe's
deadline (on expiry psycopg cancels the running query; no session ``statement_timeout``, which
pg_settings would then report instead of the server's).  Probes of one target take turns on it;
a kept connection the server dropped is replaced once (``exporters/kept.py``); a probe that
fails as a whole closes it, and the next one connects anew.

Like postgres_exporter, a dead database or a refused login is not an HTTP error: ``pg_up 0``
and the reason in ``ProbeResult.errors`` (``services/base.py``; a bug of the module is a 503).
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
from collections.abc import Callable
from typing import Any

from fleetwatch.errors import FleetwatchError, ParseError
from fleetwatch.exporters.families import Spec
from fleetwatch.exporters.kept import reuse_or_replace
from fleetwatch.exporters.services._pg_custom import (
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
from fleetwatch.exporters.services.base import Probe, ServiceDown, ServiceModule, params_schema
from fleetwatch.inventory.model import Service

__all__ = [
    "DEFAULT_PORT",
    "PARAMS_SCHEMA",
    "PostgresModule",
    "classify",
    "conninfo_kwargs",
    "parse_custom_queries",
    "postgres_specs",
    "setting_metric",
    "to_float",
]

DEFAULT_PORT = 5432

PARAMS_SCHEMA: dict[str, Any] = params_schema("postgres")

# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------


def conninfo_kwargs(target: Service, timeout: float) -> dict[str, Any]:
    """psycopg connection arguments from the target (address: ``host:port``, ``[v6]:port``,
    ``host`` or a unix socket directory ``/run/postgresql`` / ``/run/postgresql:5433``)."""
    params = target.params
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
    password = target.secret("password")
    if password is not None:
        kwargs["password"] = password
    return kwargs


def classify(exc: Exception) -> ServiceDown | None:
    """What an error of psycopg or of a parser says of the server (never the password); None
    for anything else: a bug."""
    import psycopg

    if isinstance(exc, TimeoutError):
        return ServiceDown("timeout", "no complete answer within the probe deadline")
    if isinstance(exc, psycopg.OperationalError):
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        lowered = str(exc).lower()
        kind = "auth" if "authentication" in lowered or "password" in lowered else "connect"
        return ServiceDown(kind, text)
    if isinstance(exc, psycopg.Error):
        return ServiceDown("query", str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    if isinstance(exc, ParseError):
        return ServiceDown("parse", str(exc))
    if isinstance(exc, FleetwatchError):
        return ServiceDown("config", str(exc))
    if isinstance(exc, OSError):
        return ServiceDown("connect", str(exc.strerror or exc))
    return None


class PostgresModule(ServiceModule):
    """PostgreSQL: postgres_exporter names, plus inventory-defined SQL → gauges."""

    name = "postgres"
    description = "PostgreSQL with psycopg: postgres_exporter names, custom SQL queries as gauges"
    success = UP
    duration = None  # postgres_exporter has none

    def __init__(self) -> None:
        # target name -> (connection parameters, open connection); a lock per target
        self._conns: dict[str, tuple[dict[str, Any], Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def specs(self) -> list[Spec]:
        return postgres_specs()

    async def collect(self, probe: Probe) -> None:
        import psycopg

        queries = parse_custom_queries(probe.params.get("queries"))  # before any connection
        name = probe.target.name

        async def use(conn: Any) -> None:
            probe.reset()  # a second attempt starts afresh
            await self._collect(conn, queries, probe)

        def release(conn: Any, exc: BaseException | None) -> None:
            if exc is not None:  # a failed probe leaves the connection in an unknown state
                self._drop(name)

        async with self._locks.setdefault(name, asyncio.Lock()):
            try:
                # OperationalError from a kept connection: the server closed it (a restart,
                # an idle timeout, pg_terminate_backend)
                await reuse_or_replace(
                    lambda: self._connection(probe.target, probe.timeout),
                    use,
                    release,
                    (psycopg.OperationalError,),
                )
            except BaseException:
                self._drop(name)
                raise

    def classify(self, exc: Exception, probe: Probe) -> ServiceDown | None:
        return classify(exc)

    async def _connection(self, target: Service, timeout: float) -> tuple[Any, bool]:
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

    async def _collect(self, conn: Any, queries: list[CustomQuery], probe: Probe) -> None:
        import psycopg

        fams = probe.out

        async def rows(sql: str) -> list[dict[str, Any]]:
            async with conn.cursor() as cur:
                await cur.execute(sql.encode())
                fetched: list[dict[str, Any]] = await cur.fetchall()
                return fetched

        def dropped(exc: Exception) -> bool:
            return isinstance(exc, psycopg.OperationalError) and bool(conn.closed)

        async def section(name: str, sql: str, use: Callable[[list[Row]], None]) -> None:
            with probe.section(name, fatal=dropped):
                use(list(await rows(sql)))

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
