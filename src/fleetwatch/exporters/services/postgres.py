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

postgres_exporter types its ``pg_stat_database_*`` counters ``counter`` without ``_total``;
the specs say so too (``Families.render`` keeps the exact names).  The per-target ``server``
label postgres_exporter adds to every series is left out: that is a target label.
psycopg is imported inside the functions that use it (the module list must load without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fleetwatch.errors import FleetwatchError, ParseError
from fleetwatch.exporters.families import Families, MetricType, Spec, counter, gauge, untyped
from fleetwatch.exporters.module import ProbeResult

if TYPE_CHECKING:
    from fleetwatch.inventory import Host, Service

DEFAULT_PORT = 5432
NAME_RE = r"^[a-zA-Z_][a-zA-Z0-9_]*$"

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
# Catalog: postgres_exporter 0.11's names and types
# --------------------------------------------------------------------------------------------

DB_LABELS = ("datid", "datname")
UP = gauge("pg_up", "Whether the last scrape of metrics from PostgreSQL was able to connect.")
STATIC = untyped("pg_static", "Version string as reported by postgres", "short_version", "version")
DATABASE_SIZE = gauge("pg_database_size_bytes", "Disk space used by the database", "datname")
ACTIVITY_COUNT = gauge(
    "pg_stat_activity_count", "number of connections in this state", "datname", "state"
)
ACTIVITY_MAX_TX = gauge(
    "pg_stat_activity_max_tx_duration",
    "max duration in seconds any active transaction has been running",
    "datname",
    "state",
)
LOCKS_COUNT = gauge("pg_locks_count", "Number of locks", "datname", "mode")
REPLICATION_LAG = gauge("pg_replication_lag", "Replication lag behind master in seconds")
REPLICATION_IS_REPLICA = gauge("pg_replication_is_replica", "Indicates if the server is a replica")
POSTMASTER_START = gauge("pg_postmaster_start_time_seconds", "Time at which postmaster started")
ARCHIVER = (
    counter("pg_stat_archiver_archived_count", "Number of WAL files successfully archived"),
    counter("pg_stat_archiver_failed_count", "Number of failed attempts for archiving WAL files"),
    gauge("pg_stat_archiver_last_archive_age", "Time in seconds since last WAL segment archived"),
)

_STAT_DATABASE_TYPES: dict[str, MetricType] = {
    "numbackends": "gauge",
    **{
        c: "counter"
        for c in (
            "xact_commit",
            "xact_rollback",
            "blks_read",
            "blks_hit",
            "tup_returned",
            "tup_fetched",
            "tup_inserted",
            "tup_updated",
            "tup_deleted",
            "conflicts",
            "temp_files",
            "temp_bytes",
            "deadlocks",
            "blk_read_time",
            "blk_write_time",
            "stats_reset",
        )
    },
}
"""postgres_exporter's types for pg_stat_database; newer columns (sessions, session_time, ...)
it does not know are exposed untyped, as it does."""

_STAT_DATABASE_HELP = "pg_stat_database column {col}"
STAT_DATABASE: dict[str, Spec] = {
    col: Spec(f"pg_stat_database_{col}", typ, _STAT_DATABASE_HELP.format(col=col), DB_LABELS)
    for col, typ in _STAT_DATABASE_TYPES.items()
}
STAT_DATABASE_NEWER = (
    "checksum_failures",
    "checksum_last_failure",
    "session_time",
    "active_time",
    "idle_in_transaction_time",
    "sessions",
    "sessions_abandoned",
    "sessions_fatal",
    "sessions_killed",
)
"""PostgreSQL 12-15 columns postgres_exporter 0.11 does not know: exposed untyped, as it does."""
STAT_DATABASE.update(
    (col, untyped(f"pg_stat_database_{col}", _STAT_DATABASE_HELP.format(col=col), *DB_LABELS))
    for col in STAT_DATABASE_NEWER
)
CONFLICT_COLUMNS = (
    "confl_tablespace",
    "confl_lock",
    "confl_snapshot",
    "confl_bufferpin",
    "confl_deadlock",
)
STAT_DATABASE_CONFLICTS: dict[str, Spec] = {
    col: counter(
        f"pg_stat_database_conflicts_{col}", f"Number of queries cancelled: {col}", *DB_LABELS
    )
    for col in CONFLICT_COLUMNS
}

BGWRITER_COLUMNS = (
    "checkpoints_timed",
    "checkpoints_req",
    "checkpoint_write_time",
    "checkpoint_sync_time",
    "buffers_checkpoint",
    "buffers_clean",
    "maxwritten_clean",
    "buffers_backend",
    "buffers_backend_fsync",
    "buffers_alloc",
    "stats_reset",
)
BGWRITER: dict[str, Spec] = {
    col: counter(f"pg_stat_bgwriter_{col}_total", f"pg_stat_bgwriter {col}")
    for col in BGWRITER_COLUMNS
}

COMMON_SETTINGS: tuple[str, ...] = (
    "pg_settings_max_connections",
    "pg_settings_superuser_reserved_connections",
    "pg_settings_shared_buffers_bytes",
    "pg_settings_effective_cache_size_bytes",
    "pg_settings_work_mem_bytes",
    "pg_settings_maintenance_work_mem_bytes",
    "pg_settings_max_wal_size_bytes",
    "pg_settings_min_wal_size_bytes",
    "pg_settings_checkpoint_timeout_seconds",
    "pg_settings_random_page_cost",
    "pg_settings_seq_page_cost",
    "pg_settings_max_worker_processes",
    "pg_settings_max_parallel_workers",
    "pg_settings_max_parallel_workers_per_gather",
    "pg_settings_max_wal_senders",
    "pg_settings_max_replication_slots",
    "pg_settings_max_locks_per_transaction",
    "pg_settings_autovacuum",
    "pg_settings_fsync",
    "pg_settings_statement_timeout_seconds",
)
"""The pg_settings_* families dashboards use; a probe emits every numeric setting."""

ACTIVITY_STATES = (
    "active",
    "idle",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
)
LOCK_MODES = (
    "accesssharelock",
    "rowsharelock",
    "rowexclusivelock",
    "shareupdateexclusivelock",
    "sharelock",
    "sharerowexclusivelock",
    "exclusivelock",
    "accessexclusivelock",
    "sireadlock",
)


def postgres_specs() -> list[Spec]:
    """Every fixed family (pg_settings_*: the common ones; custom queries: per inventory)."""
    specs: list[Spec] = [
        UP,
        STATIC,
        DATABASE_SIZE,
        ACTIVITY_COUNT,
        ACTIVITY_MAX_TX,
        LOCKS_COUNT,
        REPLICATION_LAG,
        REPLICATION_IS_REPLICA,
        POSTMASTER_START,
        *ARCHIVER,
        *STAT_DATABASE.values(),
        *STAT_DATABASE_CONFLICTS.values(),
        *BGWRITER.values(),
        *(gauge(n, "Server Parameter (pg_settings)") for n in COMMON_SETTINGS),
    ]
    return sorted(specs, key=lambda s: s.name)


# --------------------------------------------------------------------------------------------
# Pure conversions
# --------------------------------------------------------------------------------------------

_UNIT_SCALE: dict[str, tuple[str, float]] = {
    "ms": ("seconds", 1e-3),
    "s": ("seconds", 1.0),
    "min": ("seconds", 60.0),
    "h": ("seconds", 3600.0),
    "d": ("seconds", 86400.0),
    "B": ("bytes", 1.0),
    "kB": ("bytes", 2.0**10),
    "MB": ("bytes", 2.0**20),
    "GB": ("bytes", 2.0**30),
    "TB": ("bytes", 2.0**40),
    "8kB": ("bytes", 2.0**13),
    "16kB": ("bytes", 2.0**14),
    "32kB": ("bytes", 2.0**15),
    "16MB": ("bytes", 2.0**24),
    "32MB": ("bytes", 2.0**25),
    "64MB": ("bytes", 2.0**26),
}


def setting_metric(name: str, setting: str, unit: str, vartype: str) -> tuple[str, float]:
    """One pg_settings row → (metric name, value), as postgres_exporter's normaliseUnit:
    units become ``_seconds`` / ``_bytes``; -1 (disabled) stays -1; bool on → 1."""
    metric = f"pg_settings_{name.replace('.', '_')}"
    if vartype == "bool":
        return metric, 1.0 if setting == "on" else 0.0
    if vartype not in ("integer", "real"):
        raise ParseError("pg_settings", f"{name}: unsupported vartype {vartype!r}")
    try:
        value = float(setting)
    except ValueError:
        raise ParseError("pg_settings", f"{name}: not a number: {setting!r}") from None
    if not unit:
        return metric, value
    if unit not in _UNIT_SCALE:
        raise ParseError("pg_settings", f"{name}: unknown unit {unit!r}")
    suffix, scale = _UNIT_SCALE[unit]
    return f"{metric}_{suffix}", value if value == -1 else value * scale


def to_float(value: object) -> float:
    """A column value as postgres_exporter exports it: NULL → NaN, timestamps → epoch s."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def to_label(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class CustomMetric:
    column: str
    usage: str  # gauge | counter | label | discard
    help: str


@dataclass(frozen=True)
class CustomQuery:
    name: str
    query: str
    metrics: tuple[CustomMetric, ...]

    @property
    def label_columns(self) -> tuple[str, ...]:
        return tuple(m.column for m in self.metrics if m.usage == "label")

    def spec(self, metric: CustomMetric) -> Spec:
        make = counter if metric.usage == "counter" else gauge
        return make(
            f"{self.name}_{metric.column}",
            metric.help or f"{self.name} {metric.column}",
            *self.label_columns,
        )


def parse_custom_queries(raw: object) -> list[CustomQuery]:
    """``params["queries"]``: [{name, query, metrics: [{column, usage, help}]}].  Also takes
    postgres_exporter's own item shape ``{column: {usage: GAUGE, description: ...}}``."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ParseError("queries", "expected a list")
    out: list[CustomQuery] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ParseError("queries", f"item {i}: expected a mapping")
        name, query, metrics = item.get("name"), item.get("query"), item.get("metrics")
        if not isinstance(name, str) or not re.match(NAME_RE, name):
            raise ParseError("queries", f"item {i}: name must match {NAME_RE}")
        if not isinstance(query, str) or not query.strip():
            raise ParseError("queries", f"{name}: query must be a non-empty string")
        if not isinstance(metrics, Sequence) or isinstance(metrics, str) or not metrics:
            raise ParseError("queries", f"{name}: metrics must be a non-empty list")
        parsed = tuple(_custom_metric(name, m) for m in metrics)
        out.append(CustomQuery(name, query, parsed))
    return out


def _custom_metric(query: str, item: object) -> CustomMetric:
    if not isinstance(item, Mapping):
        raise ParseError("queries", f"{query}: each metric must be a mapping")
    if "column" not in item and len(item) == 1:  # postgres_exporter's {col: {usage, ...}}
        ((column, body),) = item.items()
        body = body if isinstance(body, Mapping) else {}
        item = {
            "column": column,
            "usage": body.get("usage", "gauge"),
            "help": body.get("description", ""),
        }
    column, usage = item.get("column"), str(item.get("usage", "gauge")).lower()
    if not isinstance(column, str) or not re.match(NAME_RE, column):
        raise ParseError("queries", f"{query}: column must match {NAME_RE}")
    if usage not in ("gauge", "counter", "label", "discard"):
        raise ParseError("queries", f"{query}.{column}: unknown usage {usage!r}")
    return CustomMetric(column, usage, str(item.get("help", "") or ""))


Row = Mapping[str, object]


def add_stat_database(fams: Families, rows: Iterable[Row]) -> None:
    for row in rows:
        labels = (to_label(row.get("datid")), to_label(row.get("datname")))
        for col, value in row.items():
            if col in DB_LABELS:
                continue
            spec = STAT_DATABASE.get(col) or untyped(
                f"pg_stat_database_{col}", _STAT_DATABASE_HELP.format(col=col), *DB_LABELS
            )
            fams.add(spec, to_float(value), *labels)


def add_conflicts(fams: Families, rows: Iterable[Row]) -> None:
    for row in rows:
        labels = (to_label(row.get("datid")), to_label(row.get("datname")))
        for col, spec in STAT_DATABASE_CONFLICTS.items():
            if col in row:
                fams.add(spec, to_float(row[col]), *labels)


def add_custom(fams: Families, query: CustomQuery, rows: Iterable[Row]) -> None:
    for row in rows:
        labels = tuple(to_label(row.get(c)) for c in query.label_columns)
        for metric in query.metrics:
            if metric.usage in ("label", "discard"):
                continue
            if metric.column not in row:
                raise ParseError(query.name, f"the query returns no column {metric.column!r}")
            fams.add(query.spec(metric), to_float(row[metric.column]), *labels)


# --------------------------------------------------------------------------------------------
# SQL, as postgres_exporter 0.11 runs it
# --------------------------------------------------------------------------------------------

_VALUES = ", ".join

SQL_ACTIVITY = f"""
SELECT pg_database.datname, tmp.state, COALESCE(count, 0) AS count,
       COALESCE(max_tx_duration, 0) AS max_tx_duration
FROM (VALUES {_VALUES(f"('{s}')" for s in ACTIVITY_STATES)}) AS tmp(state)
CROSS JOIN pg_database
LEFT JOIN (
  SELECT datname, state, count(*) AS count,
         MAX(EXTRACT(EPOCH FROM now() - xact_start))::float AS max_tx_duration
  FROM pg_stat_activity GROUP BY datname, state
) AS tmp2 ON tmp.state = tmp2.state AND pg_database.datname = tmp2.datname
"""
SQL_LOCKS = f"""
SELECT pg_database.datname, tmp.mode, COALESCE(count, 0) AS count
FROM (VALUES {_VALUES(f"('{m}')" for m in LOCK_MODES)}) AS tmp(mode)
CROSS JOIN pg_database
LEFT JOIN (
  SELECT database, lower(mode) AS mode, count(*) AS count
  FROM pg_locks WHERE database IS NOT NULL GROUP BY database, lower(mode)
) AS tmp2 ON tmp.mode = tmp2.mode AND pg_database.oid = tmp2.database
"""
SQL_SETTINGS = (
    "SELECT name, setting, COALESCE(unit, '') AS unit, short_desc, vartype "
    "FROM pg_settings WHERE vartype IN ('bool', 'integer', 'real')"
)
SQL_DATABASE_SIZE = "SELECT datname, pg_database_size(datname) AS bytes FROM pg_database"
SQL_REPLICATION = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
       ELSE GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) END AS lag,
       CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS is_replica,
       pg_postmaster_start_time() AS start_time
"""
SQL_ARCHIVER = (
    "SELECT archived_count, failed_count, "
    "EXTRACT(EPOCH FROM now() - last_archived_time) AS last_archive_age FROM pg_stat_archiver"
)


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
            lambda r: self._static(fams, r),
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
        await section("database", SQL_DATABASE_SIZE, lambda r: _add_sizes(fams, r))
        await section("settings", SQL_SETTINGS, lambda r: _add_settings(fams, r))
        await section("stat_activity", SQL_ACTIVITY, lambda r: _add_activity(fams, r))
        await section("locks", SQL_LOCKS, lambda r: _add_locks(fams, r))
        await section(
            "bgwriter", "SELECT * FROM pg_stat_bgwriter", lambda r: _add_bgwriter(fams, r)
        )
        await section("archiver", SQL_ARCHIVER, lambda r: _add_archiver(fams, r))
        await section("replication", SQL_REPLICATION, lambda r: _add_replication(fams, r))
        for query in queries:
            await section(
                f"query:{query.name}",
                query.query,
                lambda r, q=query: add_custom(fams, q, r),  # type: ignore[misc]
            )

    @staticmethod
    def _static(fams: Families, rows: list[Row]) -> None:
        for row in rows:
            values = list(row.values())
            version, short = to_label(values[0]), to_label(values[1]).split(" ", 1)[0]
            parts = [*short.split("."), "0", "0"][:3]
            fams.add(STATIC, 1, ".".join(parts), version)

    async def close(self) -> None:
        for name in list(self._conns):
            cached = self._conns.pop(name)
            with contextlib.suppress(Exception):
                await cached[1].close()

    def pool_size(self) -> int:
        return len(self._conns)


def _add_sizes(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        fams.add(DATABASE_SIZE, to_float(row["bytes"]), to_label(row["datname"]))


def _add_settings(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        name, value = setting_metric(
            str(row["name"]), str(row["setting"]), str(row["unit"]), str(row["vartype"])
        )
        help_text = str(row.get("short_desc") or name)
        fams.add(gauge(name, help_text), value)


def _add_activity(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        labels = (to_label(row["datname"]), to_label(row["state"]))
        fams.add(ACTIVITY_COUNT, to_float(row["count"]), *labels)
        fams.add(ACTIVITY_MAX_TX, to_float(row["max_tx_duration"]), *labels)


def _add_locks(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        fams.add(
            LOCKS_COUNT, to_float(row["count"]), to_label(row["datname"]), to_label(row["mode"])
        )


def _add_bgwriter(fams: Families, rows: list[Row]) -> None:
    for row in rows[:1]:
        for col, spec in BGWRITER.items():
            if col in row:
                fams.add(spec, to_float(row[col]))


def _add_archiver(fams: Families, rows: list[Row]) -> None:
    for row in rows[:1]:
        for spec in ARCHIVER:
            col = spec.name[len("pg_stat_archiver_") :]
            fams.add(spec, to_float(row.get(col)))


def _add_replication(fams: Families, rows: list[Row]) -> None:
    for row in rows[:1]:
        fams.add(REPLICATION_LAG, to_float(row["lag"]))
        fams.add(REPLICATION_IS_REPLICA, to_float(row["is_replica"]))
        fams.add(POSTMASTER_START, to_float(row["start_time"]))
