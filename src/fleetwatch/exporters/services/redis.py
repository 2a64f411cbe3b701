"""The ``redis`` module: redis_exporter 1.45's names from INFO ALL over a plain RESP connection.

One connection per probe (no pool): AUTH when a password is set, ``INFO ALL``, ``CONFIG GET
databases`` / ``io-threads`` (optional: refused on managed Redis), ``SLOWLOG``, and the key checks
of ``params["check_keys"]`` (``"key"`` or ``"db:key"``) as ``redis_key_size{db,key}`` so job
queues (BullMQ ``bull:<q>:wait``, RQ ``rq:queue:<q>``, Celery ``<queue>``) show their depth.

Like redis_exporter, a dead server or a refused login is not an HTTP error: the probe answers
with ``redis_up 0`` and the reason in ``ProbeResult.errors["redis"]``.  The parsers (INFO text
to values) are pure functions; garbage raises ``ParseError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from fleetwatch.errors import FleetwatchError, ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.module import ProbeResult

if TYPE_CHECKING:
    from fleetwatch.inventory import Host, Service

DEFAULT_PORT = 6379
MAX_BULK = 64 * 1024 * 1024
"""Largest bulk reply accepted (INFO is a few kB; a hostile server must not exhaust memory)."""
MAX_DEPTH = 8

PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "username": {"type": "string", "minLength": 1, "description": "ACL user (Redis 6+)"},
        "password_env": {"type": "string", "minLength": 1},
        "password_file": {"type": "string", "minLength": 1},
        "check_keys": {
            "type": "array",
            "description": 'keys whose size becomes redis_key_size{db,key}: "key" or "db:key"',
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
        },
    },
}

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


def _number(text: str) -> float | None:
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
    uptime, now_us = _number(f.get("uptime_in_seconds", "")), _number(f.get("server_time_usec", ""))
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
# RESP (protocol version 2) over asyncio streams
# --------------------------------------------------------------------------------------------

RespValue = Union[str, int, None, list["RespValue"]]  # noqa: UP007 (recursive alias)


class RedisReplyError(Exception):
    """The server answered ``-ERR ...``."""


class ProtocolError(Exception):
    """The peer does not speak RESP."""


def encode_command(*args: str | int | bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def read_reply(reader: asyncio.StreamReader, depth: int = 0) -> RespValue:
    """Read one RESP2 reply; ``-ERR`` raises ``RedisReplyError``."""
    line = await reader.readuntil(b"\r\n")
    kind, body = line[:1], line[1:-2].decode("utf-8", "replace")
    if kind == b"+":
        return body
    if kind == b"-":
        raise RedisReplyError(body)
    try:
        if kind == b":":
            return int(body)
        if kind == b"$":
            size = int(body)
            if size < 0:
                return None
            if size > MAX_BULK:
                raise ProtocolError(f"bulk reply of {size} bytes")
            data = await reader.readexactly(size + 2)
            return data[:-2].decode("utf-8", "replace")
        if kind == b"*":
            count = int(body)
            if count < 0:
                return None
            if depth >= MAX_DEPTH:
                raise ProtocolError("nested too deep")
            return [await read_reply(reader, depth + 1) for _ in range(count)]
    except ValueError:
        raise ProtocolError(f"bad length in {line[:40]!r}") from None
    raise ProtocolError(f"not a RESP reply: {line[:40]!r}")


class RespConnection:
    """One connection; ``call`` sends a command and reads its reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: str) -> RespConnection:
        host, port, path = split_address(address)
        if path is not None:
            reader, writer = await asyncio.open_unix_connection(path)
        else:
            reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def call(self, *args: str | int) -> RespValue:
        self.writer.write(encode_command(*args))
        await self.writer.drain()
        return await read_reply(self.reader)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await self.writer.wait_closed()


def split_address(address: str) -> tuple[str, int, str | None]:
    """``host:port`` / ``host`` / ``[v6]:port`` / ``/path.sock`` / ``unix:///path`` →
    (host, port, unix path or None)."""
    addr = address.strip()
    for scheme in ("unix://", "redis://"):
        if addr.startswith(scheme):
            addr = addr[len(scheme) :]
            if scheme == "unix://":
                return "", 0, addr
    if addr.startswith("/"):
        return "", 0, addr
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else DEFAULT_PORT, None
    host, sep, port = addr.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port), None
    return addr, DEFAULT_PORT, None


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
                number = _number(value) if isinstance(value, str) else None
                if number is not None:
                    fams.add(KEY_VALUE, number, f"db{db}", key)
    if by_db:
        await conn.call("SELECT", 0)


def failure_reason(exc: BaseException) -> str:
    """A short ``kind: detail`` for ProbeResult.errors (never a secret)."""
    if isinstance(exc, TimeoutError):
        return "timeout: no complete answer within the probe deadline"
    if isinstance(exc, RedisReplyError):
        text = str(exc)
        kind = "auth" if text.split(" ", 1)[0] in {"WRONGPASS", "NOAUTH", "NOPERM"} else "reply"
        if "password" in text.lower() and kind == "reply":
            kind = "auth"
        return f"{kind}: {text}"
    if isinstance(exc, ParseError):
        return f"parse: {exc}"
    if isinstance(exc, ProtocolError | asyncio.IncompleteReadError | asyncio.LimitOverrunError):
        return f"protocol: {exc}"
    if isinstance(exc, FleetwatchError):
        return f"config: {exc}"
    if isinstance(exc, OSError):
        return f"connect: {exc.strerror or exc}"
    return f"internal: {type(exc).__name__}: {exc}"


def _check_keys_param(params: Mapping[str, Any]) -> list[str]:
    raw = params.get("check_keys") or []
    if isinstance(raw, str):
        return [k.strip() for k in raw.split(",") if k.strip()]
    return [str(k) for k in raw] if isinstance(raw, Sequence) else []


class RedisModule:
    """Redis (and protocol-compatible: KeyDB, Valkey, Dragonfly): redis_exporter's names."""

    name = "redis"
    description = "Redis over RESP: redis_exporter names (INFO ALL, key sizes for job queues)"

    def specs(self) -> list[Spec]:
        return redis_specs()

    async def probe(self, target: Host | Service, timeout: float) -> ProbeResult:
        fams = Families()
        errors: dict[str, str] = {}
        try:
            async with asyncio.timeout(timeout):
                fams.merge(await self._collect(target))
            fams.add(UP, 1)
        except Exception as exc:  # every failure is redis_up 0, as redis_exporter
            fams = Families()
            fams.add(UP, 0)
            errors["redis"] = failure_reason(exc)
        return ProbeResult(fams, errors)

    async def _collect(self, target: Host | Service) -> Families:
        params: Mapping[str, Any] = getattr(target, "params", {}) or {}
        secret = getattr(target, "secret", None)
        password = secret("password") if callable(secret) else None
        conn = await RespConnection.open(target.address)
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
            return fams
        finally:
            await conn.close()

    async def close(self) -> None:
        """Nothing pooled: one connection per probe."""

    def pool_size(self) -> int:
        return 0
