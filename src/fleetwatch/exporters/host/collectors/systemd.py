"""systemd: unit states, timers and sockets from ``systemctl show`` (off by default, as in
node_exporter; enable it per host with ``collectors.enable: [systemd]``).

    node_systemd_unit_state{name="nginx.service",state="active",type="notify"} 1
    node_systemd_units{state="failed"} 1
    node_systemd_system_running 0
    node_systemd_timer_last_trigger_seconds{name="apt-daily.timer"} 1.7645e+09

node_exporter asks systemd over D-Bus; an agentless probe asks ``systemctl show``, which reads
the same properties over the same bus: the manager's Version and SystemState, then one block of
``Key=Value`` lines per loaded unit.  Units are filtered as node_exporter does (include /
exclude regexes, anchored; only LoadState=loaded); the ``units`` summary counts every unit.
No systemd on the host (no /run/systemd/system): NoData.
"""

from __future__ import annotations

import calendar
import re
import time

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import option_regex
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

KEY = "systemd"
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "Type", "LastTriggerUSec", "NAccepted",
                   "NConnections", "NRefused")  # fmt: skip
_PROPS = ",".join(UNIT_PROPERTIES)
_SHOW = f"TZ=UTC0 systemctl show --no-pager --property={_PROPS}"
# systemd >= 248 prints timestamps with microseconds in UTC; older ones in TZ's zone (UTC0)
COMMAND = (
    "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then "
    "TZ=UTC0 systemctl show --no-pager --property=Version,SystemState; echo @@units; "
    f"{_SHOW} --timestamp=us+utc '*' 2>/dev/null || {_SHOW} '*'; "
    "else echo @@no-systemd; fi"
)
STATES = ("active", "activating", "deactivating", "inactive", "failed")
MIN_VERSION_SYSTEM_STATE = 212

UNIT_STATE = gauge("node_systemd_unit_state", "Systemd unit", "name", "state", "type")
UNITS = gauge("node_systemd_units", "Summary of systemd unit states", "state")
SYSTEM_RUNNING = gauge(
    "node_systemd_system_running",
    "Whether the system is operational (see 'systemctl is-system-running')",
)
TIMER_LAST_TRIGGER = gauge(
    "node_systemd_timer_last_trigger_seconds", "Seconds since epoch of last trigger.", "name"
)
SOCKET_ACCEPTED = counter(
    "node_systemd_socket_accepted_connections_total",
    "Total number of accepted socket connections",
    "name",
)
SOCKET_CURRENT = gauge(
    "node_systemd_socket_current_connections", "Current number of socket connections", "name"
)
SOCKET_REFUSED = gauge(  # a gauge in node_exporter, despite the name
    "node_systemd_socket_refused_connections_total",
    "Total number of refused socket connections",
    "name",
)
VERSION = gauge("node_systemd_version", "Detected systemd version", "version")

_VERSION = re.compile(r"[0-9]{3,}(\.[0-9]+)?")
_STAMP = re.compile(
    r"[A-Z][a-z]{2} (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? UTC"
)


def parse_timestamp(text: str, source: str) -> float:
    """Seconds since the epoch of a ``systemctl show`` timestamp; 0 when never (empty, n/a)."""
    value = text.strip()
    if value in ("", "n/a", "0"):
        return 0.0
    if value.startswith("@") and value[1:].isascii() and value[1:].isdigit():
        return float(int(value[1:]))
    m = _STAMP.fullmatch(value)
    if m is None:
        raise ParseError(source, f"unexpected timestamp {value[:40]!r}")
    parts = [int(g) for g in m.groups()[:6]]
    try:
        seconds = calendar.timegm(time.struct_time((*parts, 0, 0, 0)))
    except (OverflowError, ValueError):
        raise ParseError(source, f"timestamp out of range {value[:40]!r}") from None
    micros = m.group(7) or ""
    return seconds + (int(micros.ljust(6, "0")) / 1e6 if micros else 0.0)


def _blocks(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise ParseError("systemctl show", f"not a Key=Value line: {line[:80]!r}")
        current[key] = value
    if current:
        out.append(current)
    return out


def parse_systemctl(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(manager properties, one dict per unit) of the command's output; NoData without systemd."""
    if text.strip() == "@@no-systemd":
        raise NoData("/run/systemd/system")
    manager_text, sep, units_text = text.partition("@@units\n")
    if not sep:
        raise ParseError("systemctl show", "output ended early (no unit list)")
    manager = {k: v for block in _blocks(manager_text) for k, v in block.items()}
    units = _blocks(units_text)
    for unit in units:
        if not unit.get("Id"):
            raise ParseError("systemctl show", "a unit without Id")
    return manager, units


def parse_version(text: str) -> tuple[float, str]:
    """(number, full string) of the manager's Version, as node_exporter reads it."""
    full = text.strip().strip('"')
    m = _VERSION.search(full)
    if m is None:
        return 0.0, ""
    return float(m.group(0)), full


def _count(unit: dict[str, str], key: str) -> int | None:
    value = unit.get(key, "").strip()
    if value.isascii() and value.isdigit() and int(value) < 1 << 32:
        return int(value)
    return None


class SystemdCollector(Collector):
    name = "systemd"
    default = False
    specs = (UNIT_STATE, UNITS, SYSTEM_RUNNING, TIMER_LAST_TRIGGER, SOCKET_ACCEPTED,
             SOCKET_CURRENT, SOCKET_REFUSED, VERSION)  # fmt: skip

    def commands(self, opts: Options) -> dict[str, str]:
        return {KEY: COMMAND}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.command(KEY)
        if text is None:
            raise NoData(KEY)
        manager, units = parse_systemctl(text)
        version, full = parse_version(manager.get("Version", ""))
        out.add(VERSION, version, full)
        summary = dict.fromkeys(STATES, 0)
        for unit in units:
            state = unit.get("ActiveState", "")
            summary[state] = summary.get(state, 0) + 1
        for state, n in summary.items():
            out.add(UNITS, n, state)
        include = option_regex(f"^(?:{opts.systemd_unit_include})$")
        exclude = option_regex(f"^(?:{opts.systemd_unit_exclude})$")
        for unit in units:
            name = unit["Id"]
            if (
                not include.search(name)
                or exclude.search(name)
                or unit.get("LoadState") != "loaded"
            ):
                continue
            kind = unit.get("Type", "") if name.endswith((".service", ".mount")) else ""
            for state in STATES:
                out.add(UNIT_STATE, 1 if unit.get("ActiveState") == state else 0, name, state, kind)
            if name.endswith(".timer") and version >= MIN_VERSION_SYSTEM_STATE:
                stamp = parse_timestamp(unit.get("LastTriggerUSec", ""), name)
                out.add(TIMER_LAST_TRIGGER, stamp, name)
            if name.endswith(".socket"):
                accepted, current = _count(unit, "NAccepted"), _count(unit, "NConnections")
                if accepted is None or current is None:
                    continue
                out.add(SOCKET_ACCEPTED, accepted, name)
                out.add(SOCKET_CURRENT, current, name)
                refused = _count(unit, "NRefused")  # systemd >= 239
                if refused is not None:
                    out.add(SOCKET_REFUSED, refused, name)
        if version >= MIN_VERSION_SYSTEM_STATE:
            out.add(SYSTEM_RUNNING, 1 if manager.get("SystemState") == "running" else 0)


COLLECTORS = [SystemdCollector]
