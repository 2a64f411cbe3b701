"""postgres_exporter 0.11's families, its longer SQL texts and rows → samples: no I/O.

postgres_exporter types its ``pg_stat_database_*`` counters ``counter`` without ``_total``;
the specs say so too (``Families.render`` keeps the exact names).  The per-target ``server``
label postgres_exporter adds to every series is left out: that is a target label.
Each ``add_*`` function takes the rows of one query (column → value mappings) and adds their
samples; ``postgres.py`` runs the queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, MetricType, Spec, counter, gauge, untyped

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
# Rows → samples, one function per query
# --------------------------------------------------------------------------------------------

Row = Mapping[str, object]


def add_static(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        values = list(row.values())
        version, short = to_label(values[0]), to_label(values[1]).split(" ", 1)[0]
        parts = [*short.split("."), "0", "0"][:3]
        fams.add(STATIC, 1, ".".join(parts), version)


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


def add_sizes(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        fams.add(DATABASE_SIZE, to_float(row["bytes"]), to_label(row["datname"]))


def add_settings(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        name, value = setting_metric(
            str(row["name"]), str(row["setting"]), str(row["unit"]), str(row["vartype"])
        )
        help_text = str(row.get("short_desc") or name)
        fams.add(gauge(name, help_text), value)


def add_activity(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        labels = (to_label(row["datname"]), to_label(row["state"]))
        fams.add(ACTIVITY_COUNT, to_float(row["count"]), *labels)
        fams.add(ACTIVITY_MAX_TX, to_float(row["max_tx_duration"]), *labels)


def add_locks(fams: Families, rows: list[Row]) -> None:
    for row in rows:
        fams.add(
            LOCKS_COUNT, to_float(row["count"]), to_label(row["datname"]), to_label(row["mode"])
        )


def add_bgwriter(fams: Families, rows: list[Row]) -> None:
    for row in rows[:1]:
        for col, spec in BGWRITER.items():
            if col in row:
                fams.add(spec, to_float(row[col]))


def add_archiver(fams: Families, rows: list[Row]) -> None:
    for row in rows[:1]:
        for spec in ARCHIVER:
            col = spec.name[len("pg_stat_archiver_") :]
            fams.add(spec, to_float(row.get(col)))


def add_replication(fams: Families, rows: list[Row]) -> None:
    for row in rows[:1]:
        fams.add(REPLICATION_LAG, to_float(row["lag"]))
        fams.add(REPLICATION_IS_REPLICA, to_float(row["is_replica"]))
        fams.add(POSTMASTER_START, to_float(row["start_time"]))
