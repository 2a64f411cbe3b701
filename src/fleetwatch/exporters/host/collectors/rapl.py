"""rapl: RAPL energy counters of /sys/class/powercap/<zone>/.

    node_rapl_package_joules_total{index="0",path="/sys/class/powercap/intel-rapl:0"} 240422.366267
    node_rapl_dram_joules_total{index="1",path="/sys/class/powercap/intel-rapl:b"} 0.002404

A zone is a directory with a ``name``; ``package-0`` gives family ``package`` and index 0, a
repeated name without a number is indexed by its count.  ``path`` is the zone's directory
under the sysfs path option, as node_exporter prints it.  energy_uj is root-only since Linux
5.10: unreadable (or no powercap class) is NoData.
"""

from __future__ import annotations

import functools
import re

from fleetwatch.exporters.families import Families, Spec, counter
from fleetwatch.exporters.host.collectors._sysfs import uint
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

POWERCAP = "/sys/class/powercap"
_INVALID = re.compile(r"[^a-zA-Z0-9_]+")  # node_exporter collapses a run into one "_"
KNOWN = ("package", "core", "uncore", "dram", "psys")


@functools.lru_cache(maxsize=256)
def zone_spec(name: str) -> Spec:
    metric = _INVALID.sub("_", f"{name}_joules_total")
    return counter(f"node_rapl_{metric}", f"Current RAPL {name} value in joules", "index", "path")


def zone_index(name: str, counts: dict[str, int]) -> tuple[int, str]:
    """(index, name): ``package-1`` -> (1, "package"); else the name's count so far."""
    parts = name.split("-")
    if len(parts) == 2:
        digits = parts[1]
        body = digits[1:] if digits[:1] in "+-" else digits
        if body.isascii() and body.isdigit():
            return int(digits), parts[0]
    return counts.get(name, 0), name


def parse_zones(zones: dict[str, dict[str, str]]) -> list[tuple[str, str, int, int]]:
    """(directory, name, index, microjoules) of every zone, in directory order."""
    counts: dict[str, int] = {}
    out = []
    for zone, attrs in zones.items():
        if "name" not in attrs:
            continue
        index, name = zone_index(attrs["name"].strip(), counts)
        source = f"{POWERCAP}/{zone}"
        if "max_energy_range_uj" not in attrs:
            raise NoData(f"{source}/max_energy_range_uj")
        uint(attrs["max_energy_range_uj"].strip(), f"{source}/max_energy_range_uj")
        counts[name] = index + 1
        if "energy_uj" not in attrs:  # root-only: node_exporter's permission case
            raise NoData(f"{source}/energy_uj")
        out.append((zone, name, index, uint(attrs["energy_uj"].strip(), f"{source}/energy_uj")))
    return out


class RaplCollector(Collector):
    name = "rapl"
    specs = tuple(zone_spec(n) for n in KNOWN)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            POWERCAP,
            *(f"{POWERCAP}/*/{f}" for f in ("name", "max_energy_range_uj", "energy_uj")),
        )

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        zones: dict[str, dict[str, str]] = {}
        for rest, text in snap.under(POWERCAP + "/"):
            zone, _, attr = rest.partition("/")
            if attr:
                zones.setdefault(zone, {})[attr] = text
        if snap.file(POWERCAP) is None and not zones:
            raise NoData(POWERCAP)
        sysfs = opts.sysfs.rstrip("/") or ""
        for zone, name, index, microjoules in parse_zones(dict(sorted(zones.items()))):
            path = f"{sysfs}/class/powercap/{zone}"
            out.add(zone_spec(name), microjoules / 1000000.0, str(index), path)


COLLECTORS = [RaplCollector]
