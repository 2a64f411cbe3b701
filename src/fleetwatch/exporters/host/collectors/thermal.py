"""thermal_zone: /sys/class/thermal/thermal_zone<N>/ and cooling_device<N>/.

    node_thermal_zone_temp{type="x86_pkg_temp",zone="0"} 52
    node_cooling_device_cur_state{name="0",type="Processor"} 0
    node_cooling_device_max_state{name="0",type="Processor"} 3

A zone or device whose values cannot be read (ENODATA, EAGAIN from a sleeping sensor) is
skipped, as procfs does.
"""

from __future__ import annotations

from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes, go_int, sysfs_value
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_THERMAL = "/sys/class/thermal"
ZONE_TEMP = gauge("node_thermal_zone_temp", "Zone temperature in Celsius", "zone", "type")
COOLING_CUR = gauge(
    "node_cooling_device_cur_state", "Current throttle state of the cooling device", "name", "type"
)
COOLING_MAX = gauge(
    "node_cooling_device_max_state", "Maximum throttle state of the cooling device", "name", "type"
)


def parse_zones(entries: dict[str, dict[str, str]]) -> list[tuple[str, str, float]]:
    """(zone number, type, degrees Celsius) of each readable zone."""
    zones = []
    for entry, attrs in entries.items():
        kind, temp = sysfs_value(attrs.get("type")), sysfs_value(attrs.get("temp"))
        if kind is None or temp is None:
            continue
        millis = go_int(temp, f"{SYS_THERMAL}/{entry}/temp")
        zones.append((entry.removeprefix("thermal_zone"), kind, millis / 1000.0))
    return zones


def parse_cooling(entries: dict[str, dict[str, str]]) -> list[tuple[str, str, int, int]]:
    """(device number, type, current state, maximum state) of each readable device."""
    devices = []
    for entry, attrs in entries.items():
        kind = sysfs_value(attrs.get("type"))
        cur, top = sysfs_value(attrs.get("cur_state")), sysfs_value(attrs.get("max_state"))
        if kind is None or cur is None or top is None:
            continue
        source = f"{SYS_THERMAL}/{entry}"
        name = entry.removeprefix("cooling_device")
        devices.append((name, kind, go_int(cur, source), go_int(top, source)))
    return devices


class ThermalZoneCollector(Collector):
    name = "thermal_zone"
    specs = (ZONE_TEMP, COOLING_CUR, COOLING_MAX)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            f"{SYS_THERMAL}/thermal_zone[0-9]*/type",
            f"{SYS_THERMAL}/thermal_zone[0-9]*/temp",
            f"{SYS_THERMAL}/cooling_device[0-9]*/type",
            f"{SYS_THERMAL}/cooling_device[0-9]*/cur_state",
            f"{SYS_THERMAL}/cooling_device[0-9]*/max_state",
        )

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        zones = attributes(snap, SYS_THERMAL, ("type", "temp"), "thermal_zone[0-9]*")
        for zone, kind, celsius in parse_zones(zones):
            out.add(ZONE_TEMP, celsius, zone, kind)
        names = ("type", "cur_state", "max_state")
        devices = attributes(snap, SYS_THERMAL, names, "cooling_device[0-9]*")
        for name, kind, cur, top in parse_cooling(devices):
            out.add(COOLING_CUR, cur, name, kind)
            out.add(COOLING_MAX, top, name, kind)


COLLECTORS = [ThermalZoneCollector]
