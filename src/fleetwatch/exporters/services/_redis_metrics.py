"""redis_exporter 1.45's families and ``INFO ALL`` → samples: pure functions, no I/O.

``parse_info`` splits the INFO text into plain fields, keyspace, command and error stats (garbage
raises ``ParseError``); ``info_families`` turns that into samples with redis_exporter's names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge

# --------------------------------------------------------------------------------------------
# Catalog: redis_exporter 1.45's names and types
# --------------------------------------------------------------------------------------------

UP = gauge("redis_up", "Information about the Redis instance")
START_TIME = gauge("redis_start_time_seconds", "Start time of the Redis instance since unix epoch")
INSTANCE_INFO = gauge(
    "redis_instance_info",
    "Information about the Redis instance",
    "role",
    "redis_version",
    "redis_build_id",
    "redis_mode",
    "os",
    "maxmemory_policy",
    "tcp_port",
    "run_id",
    "process_id",
)
DB_KEYS = gauge("redis_db_keys", "Total number of keys by DB", "db")
DB_KEYS_EXPIRING = gauge("redis_db_keys_expiring", "Total number of expiring keys by DB", "db")
DB_AVG_TTL = gauge("redis_db_avg_ttl_seconds", "Avg TTL in seconds", "db")
COMMANDS = counter("redis_commands_total", "Total number of calls per command", "cmd")
COMMANDS_DURATION = counter(
    "redis_commands_duration_seconds_total",
    "Total amount of time in seconds spent per command",
    "cmd",
)
COMMANDS_FAILED = counter(
    "redis_commands_failed_calls_total", "Total number of errors within command execution", "cmd"
)
COMMANDS_REJECTED = counter(
    "redis_commands_rejected_calls_total", "Total number of errors prior command execution", "cmd"
)
ERRORS = counter("redis_errors_total", "Total number of errors per error type", "err")
KEY_SIZE = gauge("redis_key_size", 'The length or size of "key"', "db", "key")
KEY_VALUE = gauge("redis_key_value", 'The value of "key"', "db", "key")
SLOWLOG_LENGTH = gauge("redis_slowlog_length", "Total slowlog")
SLOWLOG_LAST_ID = gauge("redis_slowlog_last_id", "Last id of slowlog")
LAST_SLOW = gauge(
    "redis_last_slow_execution_duration_seconds",
    "The amount of time needed for last slow execution, in seconds",
)
CONFIG_IO_THREADS = gauge("redis_config_io_threads", "config_io_threads metric")


def _status(value: str) -> float:
    return 1.0 if value == "ok" else 0.0


@dataclass(frozen=True)
class InfoField:
    """One INFO field exported as one family; ``convert`` turns the text into the value."""

    field: str
    spec: Spec
    convert: Callable[[str], float] = float


def _g(info_field: str, name: str, scale: float = 1.0) -> InfoField:
    conv: Callable[[str], float] = float if scale == 1.0 else (lambda v: float(v) * scale)
    return InfoField(info_field, gauge(f"redis_{name}", f"{name} metric"), conv)


def _c(info_field: str, name: str) -> InfoField:
    return InfoField(info_field, counter(f"redis_{name}", f"{name} metric"))


INFO_FIELDS: tuple[InfoField, ...] = (
    # Server
    _g("uptime_in_seconds", "uptime_in_seconds"),
    _g("process_id", "process_id"),
    _g("io_threads_active", "io_threads_active"),
    # Clients
    _g("connected_clients", "connected_clients"),
    _g("blocked_clients", "blocked_clients"),
    _g("tracking_clients", "tracking_clients"),
    _g("clients_in_timeout_table", "clients_in_timeout_table"),
    _g("cluster_connections", "cluster_connections"),
    _g("client_longest_output_list", "client_longest_output_list"),
    _g("client_biggest_input_buf", "client_biggest_input_buf"),
    _g("client_recent_max_output_buffer", "client_recent_max_output_buffer_bytes"),
    _g("client_recent_max_input_buffer", "client_recent_max_input_buffer_bytes"),
    _g("maxclients", "config_maxclients"),
    # Memory
    _g("allocator_active", "allocator_active_bytes"),
    _g("allocator_allocated", "allocator_allocated_bytes"),
    _g("allocator_resident", "allocator_resident_bytes"),
    _g("allocator_frag_ratio", "allocator_frag_ratio"),
    _g("allocator_frag_bytes", "allocator_frag_bytes"),
    _g("allocator_rss_ratio", "allocator_rss_ratio"),
    _g("allocator_rss_bytes", "allocator_rss_bytes"),
    _g("used_memory", "memory_used_bytes"),
    _g("used_memory_rss", "memory_used_rss_bytes"),
    _g("used_memory_peak", "memory_used_peak_bytes"),
    _g("used_memory_lua", "memory_used_lua_bytes"),
    _g("used_memory_overhead", "memory_used_overhead_bytes"),
    _g("used_memory_startup", "memory_used_startup_bytes"),
    _g("used_memory_dataset", "memory_used_dataset_bytes"),
    _g("used_memory_scripts", "memory_used_scripts_bytes"),
    _g("maxmemory", "memory_max_bytes"),
    _g("maxmemory", "config_maxmemory"),
    _g("mem_fragmentation_ratio", "mem_fragmentation_ratio"),
    _g("mem_fragmentation_bytes", "mem_fragmentation_bytes"),
    _g("mem_clients_slaves", "mem_clients_slaves"),
    _g("mem_clients_normal", "mem_clients_normal"),
    _g("mem_not_counted_for_evict", "mem_not_counted_for_eviction_bytes"),
    _g("lazyfree_pending_objects", "lazyfree_pending_objects"),
    _g("active_defrag_running", "active_defrag_running"),
    _g("number_of_cached_scripts", "number_of_cached_scripts"),
    # Persistence
    _g("loading", "loading_dump_file"),
    _g("rdb_changes_since_last_save", "rdb_changes_since_last_save"),
    _g("rdb_bgsave_in_progress", "rdb_bgsave_in_progress"),
    _g("rdb_last_save_time", "rdb_last_save_timestamp_seconds"),
    InfoField(
        "rdb_last_bgsave_status",
        gauge("redis_rdb_last_bgsave_status", "rdb_last_bgsave_status metric"),
        _status,
    ),
    _g("rdb_last_bgsave_time_sec", "rdb_last_bgsave_duration_sec"),
    _g("rdb_current_bgsave_time_sec", "rdb_current_bgsave_duration_sec"),
    _g("rdb_last_cow_size", "rdb_last_cow_size_bytes"),
    _g("aof_enabled", "aof_enabled"),
    _g("aof_rewrite_in_progress", "aof_rewrite_in_progress"),
    _g("aof_rewrite_scheduled", "aof_rewrite_scheduled"),
    _g("aof_last_rewrite_time_sec", "aof_last_rewrite_duration_sec"),
    _g("aof_current_rewrite_time_sec", "aof_current_rewrite_duration_sec"),
    _g("aof_last_cow_size", "aof_last_cow_size_bytes"),
    _g("aof_current_size", "aof_current_size_bytes"),
    _g("aof_base_size", "aof_base_size_bytes"),
    _g("aof_pending_rewrite", "aof_pending_rewrite"),
    _g("aof_buffer_length", "aof_buffer_length"),
    _g("aof_rewrite_buffer_length", "aof_rewrite_buffer_length"),
    _g("aof_pending_bio_fsync", "aof_pending_bio_fsync"),
    _g("aof_delayed_fsync", "aof_delayed_fsync"),
    InfoField(
        "aof_last_bgrewrite_status",
        gauge("redis_aof_last_bgrewrite_status", "aof_last_bgrewrite_status metric"),
        _status,
    ),
    InfoField(
        "aof_last_write_status",
        gauge("redis_aof_last_write_status", "aof_last_write_status metric"),
        _status,
    ),
    _g("module_fork_in_progress", "module_fork_in_progress"),
    _g("module_fork_last_cow_size", "module_fork_last_cow_size"),
    # Stats
    _c("total_connections_received", "connections_received_total"),
    _c("total_commands_processed", "commands_processed_total"),
    _c("rejected_connections", "rejected_connections_total"),
    _c("total_net_input_bytes", "net_input_bytes_total"),
    _c("total_net_output_bytes", "net_output_bytes_total"),
    _c("expired_keys", "expired_keys_total"),
    _c("evicted_keys", "evicted_keys_total"),
    _c("keyspace_hits", "keyspace_hits_total"),
    _c("keyspace_misses", "keyspace_misses_total"),
    # counters without _total: typed counter as redis_exporter does (render() keeps the name)
    _c("total_error_replies", "total_error_replies"),
    _c("unexpected_error_replies", "unexpected_error_replies"),
    _c("dump_payload_sanitizations", "dump_payload_sanitizations"),
    _c("total_reads_processed", "total_reads_processed"),
    _c("total_writes_processed", "total_writes_processed"),
    _c("io_threaded_reads_processed", "io_threaded_reads_processed"),
    _c("io_threaded_writes_processed", "io_threaded_writes_processed"),
    _g("expired_stale_perc", "expired_stale_percentage"),
    _g("expired_time_cap_reached_count", "expired_time_cap_reached_total"),
    _g("migrate_cached_sockets", "migrate_cached_sockets_total"),
    _g("active_defrag_hits", "defrag_hits"),
    _g("active_defrag_misses", "defrag_misses"),
    _g("active_defrag_key_hits", "defrag_key_hits"),
    _g("active_defrag_key_misses", "defrag_key_misses"),
    _g("pubsub_channels", "pubsub_channels"),
    _g("pubsub_patterns", "pubsub_patterns"),
    _g("latest_fork_usec", "latest_fork_seconds", 1e-6),
    _g("tracking_total_keys", "tracking_total_keys"),
    _g("tracking_total_items", "tracking_total_items"),
    _g("tracking_total_prefixes", "tracking_total_prefixes"),
    _g("sync_full", "replica_resyncs_full"),
    _g("sync_partial_ok", "replica_partial_resync_accepted"),
    _g("sync_partial_err", "replica_partial_resync_denied"),
    # Replication
    _g("connected_slaves", "connected_slaves"),
    _g("repl_backlog_size", "replication_backlog_bytes"),
    _g("repl_backlog_active", "repl_backlog_is_active"),
    _g("repl_backlog_first_byte_offset", "repl_backlog_first_byte_offset"),
    _g("repl_backlog_histlen", "repl_backlog_history_bytes"),
    _g("master_repl_offset", "master_repl_offset"),
    _g("second_repl_offset", "second_repl_offset"),
    _g("slave_expires_tracked_keys", "slave_expires_tracked_keys"),
    _g("slave_priority", "slave_priority"),
    # CPU
    _c("used_cpu_sys", "cpu_sys_seconds_total"),
    _c("used_cpu_user", "cpu_user_seconds_total"),
    _c("used_cpu_sys_children", "cpu_sys_children_seconds_total"),
    _c("used_cpu_user_children", "cpu_user_children_seconds_total"),
    _c("used_cpu_sys_main_thread", "cpu_sys_main_thread_seconds_total"),
    _c("used_cpu_user_main_thread", "cpu_user_main_thread_seconds_total"),
    # Cluster
    _g("cluster_enabled", "cluster_enabled"),
)

FIXED_SPECS: tuple[Spec, ...] = (
    UP,
    START_TIME,
    INSTANCE_INFO,
    DB_KEYS,
    DB_KEYS_EXPIRING,
    DB_AVG_TTL,
    COMMANDS,
    COMMANDS_DURATION,
    COMMANDS_FAILED,
    COMMANDS_REJECTED,
    ERRORS,
    KEY_SIZE,
    KEY_VALUE,
    SLOWLOG_LENGTH,
    SLOWLOG_LAST_ID,
    LAST_SLOW,
    CONFIG_IO_THREADS,
)


def redis_specs() -> list[Spec]:
    """Every family the module can emit, sorted by name."""
    seen: dict[str, Spec] = {s.name: s for s in FIXED_SPECS}
    for f in INFO_FIELDS:
        seen.setdefault(f.spec.name, f.spec)
    return [seen[k] for k in sorted(seen)]


# --------------------------------------------------------------------------------------------
# Pure parsers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyspace:
    keys: float
    expires: float
    avg_ttl_ms: float


@dataclass
class RedisInfo:
    """``INFO ALL`` split into its parts; ``fields`` holds every plain ``name:value`` line."""

    fields: dict[str, str] = field(default_factory=dict)
    keyspace: dict[str, Keyspace] = field(default_factory=dict)
    commandstats: dict[str, dict[str, float]] = field(default_factory=dict)
    errorstats: dict[str, float] = field(default_factory=dict)


def _kv_list(text: str, source: str) -> dict[str, float]:
    """``calls=3,usec=5,usec_per_call=1.67`` → {calls: 3.0, ...}."""
    out: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ParseError(source, f"expected key=value, got {part!r}")
        try:
            out[key] = float(value)
        except ValueError:
            raise ParseError(source, f"{key}: not a number: {value!r}") from None
    return out


def parse_info(text: str) -> RedisInfo:
    """Parse the text of ``INFO ALL``; raises ``ParseError`` on anything else."""
    info = RedisInfo()
    section = ""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            section = line[1:].strip().lower()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or any(c.isspace() for c in name):
            raise ParseError("INFO", f"line {lineno}: expected name:value, got {line[:80]!r}")
        where = f"INFO line {lineno}"
        if section == "keyspace" or (name.startswith("db") and name[2:].isdigit()):
            vals = _kv_list(value, where)
            info.keyspace[name] = Keyspace(
                vals.get("keys", 0.0), vals.get("expires", 0.0), vals.get("avg_ttl", 0.0)
            )
        elif name.startswith("cmdstat_"):
            info.commandstats[name[len("cmdstat_") :]] = _kv_list(value, where)
        elif name.startswith("errorstat_"):
            info.errorstats[name[len("errorstat_") :]] = _kv_list(value, where).get("count", 0.0)
        else:
            info.fields[name] = value
    if "redis_version" not in info.fields:
        raise ParseError("INFO", "not a Redis INFO reply (no redis_version)")
    return info


def to_number(text: str) -> float | None:
    """The text as a float; None when it is not a number (INFO values, string key values)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def info_families(info: RedisInfo, databases: int | None = None) -> Families:
    """The families of one INFO reply.  ``databases`` (from ``CONFIG GET databases``) adds
    zero-valued ``redis_db_keys`` for empty databases, as redis_exporter does."""
    fams = Families()
    f = info.fields
    for spec_field in INFO_FIELDS:
        text = f.get(spec_field.field)
        if text is None:
            continue
        try:
            value = spec_field.convert(text)
        except ValueError:
            continue  # a human-readable variant (e.g. a future "1.2M"): not a number
        if not math.isnan(value):
            fams.add(spec_field.spec, value)
    uptime, now_us = (
        to_number(f.get("uptime_in_seconds", "")),
        to_number(f.get("server_time_usec", "")),
    )
    if uptime is not None and now_us is not None:
        fams.add(START_TIME, float(int(now_us / 1e6) - int(uptime)))
    fams.add(
        INSTANCE_INFO,
        1,
        *(f.get(k, "") for k in INSTANCE_INFO.labels),
    )
    dbs = set(info.keyspace)
    if databases is not None:
        dbs.update(f"db{i}" for i in range(databases))
    for db in dbs:
        ks = info.keyspace.get(db, Keyspace(0.0, 0.0, 0.0))
        fams.add(DB_KEYS, ks.keys, db)
        fams.add(DB_KEYS_EXPIRING, ks.expires, db)
        if db in info.keyspace:
            fams.add(DB_AVG_TTL, ks.avg_ttl_ms / 1000, db)
    for cmd, stats in info.commandstats.items():
        fams.add(COMMANDS, stats.get("calls", 0.0), cmd)
        fams.add(COMMANDS_DURATION, stats.get("usec", 0.0) / 1e6, cmd)
        if "failed_calls" in stats:
            fams.add(COMMANDS_FAILED, stats["failed_calls"], cmd)
        if "rejected_calls" in stats:
            fams.add(COMMANDS_REJECTED, stats["rejected_calls"], cmd)
    for err, count in info.errorstats.items():
        fams.add(ERRORS, count, err)
    return fams
