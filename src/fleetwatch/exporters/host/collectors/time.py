"""time: the host's clock by ``date``, and /sys/devices/system/clocksource/.

    node_time_seconds 1.795332880190623e+09
    node_time_zone_offset_seconds{time_zone="UTC"} 0
    node_time_clocksource_current_info{clocksource="tsc",device="0"} 1

The host's own clock is read (not ours): skew between the two is what the dashboards show.
"""

from __future__ import annotations

import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

CMD = "date"
CLOCKSOURCE = "/sys/devices/system/clocksource"
NOW = gauge("node_time_seconds", "System time in seconds since epoch (1970).")
ZONE = gauge("node_time_zone_offset_seconds", "System time zone offset in seconds.", "time_zone")
AVAILABLE = gauge(
    "node_time_clocksource_available_info",
    "Available clocksources read from '/sys/devices/system/clocksource'.",
    "device",
    "clocksource",
)
CURRENT = gauge(
    "node_time_clocksource_current_info",
    "Current clocksource read from '/sys/devices/system/clocksource'.",
    "device",
    "clocksource",
)
# a date without %N support prints "N" or "%N" for it
_DATE = re.compile(r"(-?[0-9]+)\.([0-9]+|%?N) ([+-])([0-9]{2})([0-9]{2})(?: (\S+))?\s*")


def parse_date(text: str) -> tuple[float, int, str]:
    """(seconds since the epoch, zone offset in seconds, zone name) of ``date '+%s.%N %z %Z'``."""
    m = _DATE.fullmatch(text)
    if m is None:
        raise ParseError("date", f"unexpected output {text[:80]!r}")
    secs, frac, sign, hh, mm, zone = m.groups()
    now = float(f"{secs}.{frac}") if frac.isdigit() else float(secs)
    offset = int(hh) * 3600 + int(mm) * 60
    return now, -offset if sign == "-" else offset, zone or ""


def parse_clocksources(entries: dict[str, dict[str, str]]) -> list[tuple[list[str], str]]:
    """(available, current) of each clocksourceN directory, in name order."""
    out = []
    for attrs in entries.values():
        if "available_clocksource" in attrs and "current_clocksource" in attrs:
            out.append(
                (attrs["available_clocksource"].split(), attrs["current_clocksource"].strip())
            )
    return out


class TimeCollector(Collector):
    name = "time"
    specs = (NOW, ZONE, AVAILABLE, CURRENT)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            f"{CLOCKSOURCE}/clocksource[0-9]*/available_clocksource",
            f"{CLOCKSOURCE}/clocksource[0-9]*/current_clocksource",
        )

    def commands(self, opts: Options) -> dict[str, str]:
        return {CMD: "date '+%s.%N %z %Z'"}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.command(CMD)
        if text is None:
            raise ParseError("date", "no output")
        now, offset, zone = parse_date(text)
        out.add(NOW, now)
        out.add(ZONE, offset, zone)
        names = ("available_clocksource", "current_clocksource")
        entries = attributes(snap, CLOCKSOURCE, names, "clocksource[0-9]*")
        # node_exporter labels each clocksource directory by its index in the sorted list
        for i, (available, current) in enumerate(parse_clocksources(entries)):
            for cs in available:
                out.add(AVAILABLE, 1, str(i), cs)
            out.add(CURRENT, 1, str(i), current)


COLLECTORS = [TimeCollector]
