"""Docker Engine API JSON → cAdvisor's container series: pure functions, no I/O.

The inputs are what the Engine answers for one container: its entry in ``GET /containers/json``,
``GET /containers/{id}/json`` (inspect) and ``GET /containers/{id}/stats?stream=0&one-shot=1``.
The names, types, help texts and label names are cAdvisor's (``metrics/prometheus.go``); where
the Engine's numbers differ from what cAdvisor reads from the cgroup files it says so below.

- ``id`` is the cgroup path as cAdvisor names the container: ``/docker/<id>`` on the cgroupfs
  driver, ``/system.slice/docker-<id>.scope`` on systemd (``CgroupParent`` replaces the first
  part); ``name`` the container name without ``/``; ``image`` ``Config.Image`` (as given to
  ``docker run``, not the digest); container labels become ``container_label_<key>`` with every
  character outside ``[a-zA-Z0-9_]`` replaced by ``_`` (cAdvisor's ``sanitizeLabelName``); only
  the Compose project and service are kept, so every family has one fixed label set.
- Memory follows cAdvisor's libcontainer handler: on cgroup v1 (``total_*`` keys present) rss,
  cache, mapped_file, swap and inactive_file are the hierarchical ``total_*`` values, on v2
  ``anon``, ``file``, ``file_mapped`` and ``inactive_file``; the working set is usage minus
  inactive_file, floored at 0.  v2 stats carry no failcnt, max usage or swap: those are skipped.
- Limits come from inspect's ``HostConfig`` as the cgroup files hold them: ``--cpus`` is
  ``NanoCpus`` → quota = NanoCpus * period / 1e9 with the kernel's default period 100000 µs;
  unset shares are the kernel's 1024 (cAdvisor on cgroup v2 converts ``cpu.weight`` back, and an
  unset weight then reads 2597: not reproduced); a memory limit of 0 means unlimited, as in
  cAdvisor's ``specMemoryValue``.  CFS counters exist only with a quota (cAdvisor's condition).
- Block I/O: ``device`` is what ``device_name(major, minor)`` returns (cAdvisor: ``/dev/<name>``
  from the machine's disks; the module passes a resolver for a local Engine, else ``major:minor``).
- ``container_start_time_seconds`` is the creation time (cAdvisor uses inspect ``Created``),
  whole seconds as cAdvisor; ``container_last_seen`` the probe time in whole seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge

COMPOSE_LABELS = ("com.docker.compose.project", "com.docker.compose.service")
_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_label_name(name: str) -> str:
    """cAdvisor's ``sanitizeLabelName``: anything outside ``[a-zA-Z0-9_]`` becomes ``_``."""
    return _INVALID_LABEL_CHARS.sub("_", name)


BASE = (
    "id",
    "name",
    "image",
    *(f"container_label_{sanitize_label_name(k)}" for k in COMPOSE_LABELS),
)


def _g(name: str, help: str, *extra: str) -> Spec:
    return gauge(name, help, *BASE, *extra)


def _c(name: str, help: str, *extra: str) -> Spec:
    return counter(name, help, *BASE, *extra)


LAST_SEEN = _g("container_last_seen", "Last time a container was seen by the exporter")
START_TIME = _g(
    "container_start_time_seconds", "Start time of the container since unix epoch in seconds."
)
CPU_USAGE = _c(
    "container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", "cpu"
)
CPU_USER = _c("container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.")
CPU_SYSTEM = _c(
    "container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds."
)
CFS_PERIODS = _c(
    "container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals."
)
CFS_THROTTLED = _c(
    "container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals."
)
CFS_THROTTLED_TIME = _c(
    "container_cpu_cfs_throttled_seconds_total",
    "Total time duration the container has been throttled.",
)
MEM_USAGE = _g(
    "container_memory_usage_bytes",
    "Current memory usage in bytes, including all memory regardless of when it was accessed",
)
MEM_WORKING_SET = _g("container_memory_working_set_bytes", "Current working set in bytes.")
MEM_MAX_USAGE = _g("container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes")
MEM_RSS = _g("container_memory_rss", "Size of RSS in bytes.")
MEM_CACHE = _g("container_memory_cache", "Number of bytes of page cache memory.")
MEM_MAPPED = _g("container_memory_mapped_file", "Size of memory mapped files in bytes.")
MEM_SWAP = _g("container_memory_swap", "Container swap usage in bytes.")
MEM_FAILCNT = _c("container_memory_failcnt", "Number of memory usage hits limits")
SPEC_CPU_PERIOD = _g("container_spec_cpu_period", "CPU period of the container.")
SPEC_CPU_QUOTA = _g("container_spec_cpu_quota", "CPU quota of the container.")
SPEC_CPU_SHARES = _g("container_spec_cpu_shares", "CPU share of the container.")
SPEC_MEM_LIMIT = _g("container_spec_memory_limit_bytes", "Memory limit for the container.")
SPEC_MEM_SWAP = _g("container_spec_memory_swap_limit_bytes", "Memory swap limit for the container.")
SPEC_MEM_RESERVATION = _g(
    "container_spec_memory_reservation_limit_bytes", "Memory reservation limit for the container."
)
#: (stats key, family) per direction; label ``interface``
NETWORK: tuple[tuple[str, Spec], ...] = tuple(
    (f"{short}_{key}", _c(f"container_network_{way}_{name}_total", help, "interface"))
    for short, way, done, doing in (
        ("rx", "receive", "received", "receiving"),
        ("tx", "transmit", "transmitted", "transmitting"),
    )
    for key, name, help in (
        ("bytes", "bytes", f"Cumulative count of bytes {done}"),
        ("packets", "packets", f"Cumulative count of packets {done}"),
        ("errors", "errors", f"Cumulative count of errors encountered while {doing}"),
        ("dropped", "packets_dropped", f"Cumulative count of packets dropped while {doing}"),
    )
)
FS_READ_BYTES = _c("container_fs_reads_bytes_total", "Cumulative count of bytes read", "device")
FS_WRITE_BYTES = _c(
    "container_fs_writes_bytes_total", "Cumulative count of bytes written", "device"
)
FS_READS = _c("container_fs_reads_total", "Cumulative count of reads completed", "device")
FS_WRITES = _c("container_fs_writes_total", "Cumulative count of writes completed", "device")
# fleetwatch's own: what the Engine knows and cAdvisor does not
RESTARTS = _c(
    "fleetwatch_container_restarts_total",
    "Restarts of the container by its restart policy (inspect RestartCount).",
)
STATE = _g(
    "fleetwatch_container_state",
    "1 for the container's current Engine state (created, running, paused, restarting, "
    "removing, exited, dead), 0 for the others.",
    "state",
)
OOM_KILLED = _g(
    "fleetwatch_container_oom_killed",
    "1 when the container's last exit was an OOM kill (inspect State.OOMKilled).",
)
LAST_START = _g(
    "fleetwatch_container_last_start_time_seconds",
    "When the container was last started (inspect State.StartedAt), seconds since the epoch.",
)
STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")
SPECS: tuple[Spec, ...] = (
    LAST_SEEN, START_TIME, CPU_USAGE, CPU_USER, CPU_SYSTEM, CFS_PERIODS, CFS_THROTTLED,
    CFS_THROTTLED_TIME, MEM_USAGE, MEM_WORKING_SET, MEM_MAX_USAGE, MEM_RSS, MEM_CACHE, MEM_MAPPED,
    MEM_SWAP, MEM_FAILCNT, SPEC_CPU_PERIOD, SPEC_CPU_QUOTA, SPEC_CPU_SHARES, SPEC_MEM_LIMIT,
    SPEC_MEM_SWAP, SPEC_MEM_RESERVATION, *(spec for _, spec in NETWORK), FS_READ_BYTES,
    FS_WRITE_BYTES, FS_READS, FS_WRITES, RESTARTS, STATE, OOM_KILLED, LAST_START,
)  # fmt: skip

#: the kernel's defaults where HostConfig leaves a value unset
DEFAULT_CFS_PERIOD_US = 100_000
DEFAULT_CPU_SHARES = 1024
#: cAdvisor's maxMemorySize: a limit above it is "unlimited" (0)
_UNLIMITED = 1 << 62
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")

DeviceNamer = Callable[[int, int], str]


def major_minor(major: int, minor: int) -> str:
    return f"{major}:{minor}"


# --------------------------------------------------------------------------------------------
# Small readers (the Engine omits empty fields: missing is None, a wrong type is a ParseError)
# --------------------------------------------------------------------------------------------


def as_object(doc: Any, where: str) -> Mapping[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise ParseError(where, f"expected an object, got {type(doc).__name__}")
    return doc


def _num(doc: Mapping[str, Any], key: str, where: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(where, f"{key}: not a number: {str(value)[:40]!r}")
    return float(value)


def _str(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    return value if isinstance(value, str) else ""


def parse_time(text: Any, where: str = "time") -> float | None:
    """Seconds since the epoch of an Engine timestamp (RFC 3339, nanoseconds); None for Go's
    zero time (``0001-01-01T00:00:00Z``, "never") or an empty value."""
    if not text:
        return None
    match = _TIME.match(text) if isinstance(text, str) else None
    if match is None:
        raise ParseError(where, f"not an RFC 3339 time: {str(text)[:40]!r}")
    base, frac, zone = match.groups()
    if base.startswith("0001-"):
        return None
    stamp = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone)).timestamp()
    return stamp + (float(f"0.{frac}") if frac else 0.0)


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CgroupLayout:
    """How the Engine names container cgroups (``CgroupDriver`` of ``GET /info``)."""

    driver: str = "cgroupfs"

    @classmethod
    def from_info(cls, info: Any) -> CgroupLayout:
        driver = _str(as_object(info, "info"), "CgroupDriver")
        return cls(driver or "cgroupfs")

    def container_id(self, full_id: str, parent: str = "") -> str:
        if self.driver == "systemd":
            return f"/{parent or 'system.slice'}/docker-{full_id}.scope"
        return f"/{parent.strip('/') or 'docker'}/{full_id}"


def container_labels(
    entry: Mapping[str, Any], inspect: Mapping[str, Any], layout: CgroupLayout
) -> tuple[str, ...]:
    """The values of ``BASE`` for one container (list entry + inspect)."""
    full_id = _str(inspect, "Id") or _str(entry, "Id")
    if not full_id:
        raise ParseError("containers", "a container without an Id")
    host = as_object(inspect.get("HostConfig"), "HostConfig")
    config = as_object(inspect.get("Config"), "Config")
    name = _str(inspect, "Name")
    if not name:
        names = entry.get("Names")
        name = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else ""
    labels = as_object(config.get("Labels", entry.get("Labels")), "Labels")
    return (
        layout.container_id(full_id, _str(host, "CgroupParent")),
        name.lstrip("/"),
        _str(config, "Image") or _str(entry, "Image"),
        *(str(labels.get(k, "")) for k in COMPOSE_LABELS),
    )


# --------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------


def cpu_limits(host_config: Mapping[str, Any]) -> tuple[float, float, float]:
    """(period µs, quota µs or 0 when unset, shares) as the cgroup files hold them."""
    where = "HostConfig"
    period = _num(host_config, "CpuPeriod", where) or DEFAULT_CFS_PERIOD_US
    quota = _num(host_config, "CpuQuota", where) or 0.0
    nano = _num(host_config, "NanoCpus", where) or 0.0
    if quota <= 0 and nano > 0:
        quota = float(int(nano * period / 1e9))
    shares = _num(host_config, "CpuShares", where) or DEFAULT_CPU_SHARES
    return period, max(quota, 0.0), shares


def _limit(value: float | None) -> float:
    return value if value is not None and 0 < value <= _UNLIMITED else 0.0


def add_spec(fams: Families, labels: tuple[str, ...], inspect: Mapping[str, Any]) -> bool:
    """Start time and limits; returns whether a CPU quota is set (CFS counters need one)."""
    created = parse_time(inspect.get("Created"), "Created")
    if created is not None:
        fams.add(START_TIME, float(int(created)), *labels)
    host = as_object(inspect.get("HostConfig"), "HostConfig")
    period, quota, shares = cpu_limits(host)
    fams.add(SPEC_CPU_PERIOD, period, *labels)
    if quota:
        fams.add(SPEC_CPU_QUOTA, quota, *labels)
    fams.add(SPEC_CPU_SHARES, shares, *labels)
    fams.add(SPEC_MEM_LIMIT, _limit(_num(host, "Memory", "HostConfig")), *labels)
    fams.add(SPEC_MEM_SWAP, _limit(_num(host, "MemorySwap", "HostConfig")), *labels)
    fams.add(SPEC_MEM_RESERVATION, _limit(_num(host, "MemoryReservation", "HostConfig")), *labels)
    return quota > 0


def add_state(
    fams: Families,
    labels: tuple[str, ...],
    entry: Mapping[str, Any],
    inspect: Mapping[str, Any],
    *,
    now: float,
) -> str:
    """``container_last_seen`` (every container listed, as cAdvisor: stats or not) and
    fleetwatch's restart, state and OOM series; returns the state."""
    fams.add(LAST_SEEN, float(int(now)), *labels)
    state = as_object(inspect.get("State"), "State")
    status = (_str(state, "Status") or _str(entry, "State")).lower()
    for name in STATES:
        fams.add(STATE, 1.0 if name == status else 0.0, *labels, name)
    restarts = _num(inspect, "RestartCount", "inspect")
    if restarts is not None:
        fams.add(RESTARTS, restarts, *labels)
    fams.add(OOM_KILLED, 1.0 if state.get("OOMKilled") is True else 0.0, *labels)
    started = parse_time(state.get("StartedAt"), "State.StartedAt")
    if started is not None:
        fams.add(LAST_START, started, *labels)
    return status


@dataclass(frozen=True)
class Memory:
    usage: float
    working_set: float
    rss: float | None
    cache: float | None
    mapped_file: float | None
    swap: float | None
    failcnt: float | None
    max_usage: float | None


def memory_view(memory_stats: Mapping[str, Any]) -> Memory | None:
    """cAdvisor's memory figures from ``memory_stats`` (None when the Engine gave none)."""
    where = "memory_stats"
    usage = _num(memory_stats, "usage", where)
    if usage is None:
        return None
    stats = as_object(memory_stats.get("stats"), f"{where}.stats")
    v1 = "total_inactive_file" in stats or "total_rss" in stats
    key = {"rss": "anon", "cache": "file", "mapped": "file_mapped", "inactive": "inactive_file"}
    if v1:
        key = {"rss": "total_rss", "cache": "total_cache", "mapped": "total_mapped_file"}
        key |= {"inactive": "total_inactive_file", "swap": "total_swap"}
    inactive = _num(stats, key["inactive"], where) or 0.0
    return Memory(
        usage=usage,
        working_set=max(usage - inactive, 0.0),
        rss=_num(stats, key["rss"], where),
        cache=_num(stats, key["cache"], where),
        mapped_file=_num(stats, key["mapped"], where),
        swap=_num(stats, key["swap"], where) if "swap" in key else None,
        # the Engine omits a zero failcnt (omitempty); v2 has none at all
        failcnt=(_num(memory_stats, "failcnt", where) or 0.0) if v1 else None,
        max_usage=_num(memory_stats, "max_usage", where) if v1 else None,
    )


def blkio_totals(entries: Any, op: str, where: str) -> dict[tuple[int, int], float]:
    """Per (major, minor): the sum of the entries whose ``op`` is ``op`` (v1 ``Read``, v2
    ``read``)."""
    out: dict[tuple[int, int], float] = {}
    if entries is None:
        return out
    if not isinstance(entries, list):
        raise ParseError(where, "expected a list")
    for item in entries:
        entry = as_object(item, where)
        if str(entry.get("op", "")).lower() != op:
            continue
        major, minor = _num(entry, "major", where), _num(entry, "minor", where)
        value = _num(entry, "value", where)
        if major is None or minor is None or value is None:
            raise ParseError(where, "an entry without major, minor or value")
        dev = (int(major), int(minor))
        out[dev] = out.get(dev, 0.0) + value
    return out


def add_usage(
    fams: Families,
    labels: tuple[str, ...],
    stats: Mapping[str, Any],
    *,
    has_quota: bool,
    device_name: DeviceNamer = major_minor,
) -> None:
    """The usage series of one stats answer (``one_shot``: no ``precpu_stats`` needed, every
    CPU series is a cumulative counter)."""
    cpu = as_object(stats.get("cpu_stats"), "cpu_stats")
    usage = as_object(cpu.get("cpu_usage"), "cpu_stats.cpu_usage")
    total = _num(usage, "total_usage", "cpu_usage")
    if total is not None:
        fams.add(CPU_USAGE, total / 1e9, *labels, "total")
    for key, spec in (("usage_in_usermode", CPU_USER), ("usage_in_kernelmode", CPU_SYSTEM)):
        value = _num(usage, key, "cpu_usage")
        if value is not None:
            fams.add(spec, value / 1e9, *labels)
    if has_quota:
        throttling = as_object(cpu.get("throttling_data"), "cpu_stats.throttling_data")
        for key, spec, unit in (
            ("periods", CFS_PERIODS, 1.0),
            ("throttled_periods", CFS_THROTTLED, 1.0),
            ("throttled_time", CFS_THROTTLED_TIME, 1e9),
        ):
            value = _num(throttling, key, "throttling_data")
            if value is not None:
                fams.add(spec, value / unit, *labels)
    mem = memory_view(as_object(stats.get("memory_stats"), "memory_stats"))
    if mem is not None:
        fams.add(MEM_USAGE, mem.usage, *labels)
        fams.add(MEM_WORKING_SET, mem.working_set, *labels)
        for value, spec in (
            (mem.rss, MEM_RSS),
            (mem.cache, MEM_CACHE),
            (mem.mapped_file, MEM_MAPPED),
            (mem.swap, MEM_SWAP),
            (mem.failcnt, MEM_FAILCNT),
            (mem.max_usage, MEM_MAX_USAGE),
        ):
            if value is not None:
                fams.add(spec, value, *labels)
    for iface, counters in as_object(stats.get("networks"), "networks").items():
        values = as_object(counters, f"networks.{iface}")
        for key, spec in NETWORK:
            value = _num(values, key, f"networks.{iface}")
            if value is not None:
                fams.add(spec, value, *labels, str(iface))
    blkio = as_object(stats.get("blkio_stats"), "blkio_stats")
    for source, pairs in (
        ("io_service_bytes_recursive", (("read", FS_READ_BYTES), ("write", FS_WRITE_BYTES))),
        ("io_serviced_recursive", (("read", FS_READS), ("write", FS_WRITES))),
    ):
        for op, spec in pairs:
            for (major, minor), value in blkio_totals(blkio.get(source), op, source).items():
                fams.add(spec, value, *labels, device_name(major, minor))
