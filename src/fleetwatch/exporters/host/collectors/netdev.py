"""netdev: /proc/net/dev, plus /sys/class/net/*/statistics/rx_nohandler.

    node_network_receive_bytes_total{device="eth0"} 1.10249038e+08
    node_network_transmit_packets_total{device="eth0"} 1415
    node_network_receive_nohandler_total{device="eth0"} 0

node_exporter 1.5 reads these over netlink by default, which adds ``receive_nohandler``
(absent from /proc/net/dev): it is read from sysfs here.  Family names come from the
/proc/net/dev header, as node_exporter derives them.
"""

from __future__ import annotations

import functools
import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter
from fleetwatch.exporters.host.collectors._sysfs import (
    attributes,
    option_regex,
    sysfs_value,
    uint,
    uints,
)
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/net/dev"
SYS_NET = "/sys/class/net"
NOHANDLER = "statistics/rx_nohandler"
_IFACE = re.compile(r"^(.+): *(.+)$")
_HEADER = re.compile(r"[a-z_]+")


@functools.lru_cache(maxsize=4096)
def spec_for(key: str) -> Spec:
    """``receive_bytes`` -> node_network_receive_bytes_total, as node_exporter names them."""
    return counter(f"node_network_{key}_total", f"Network device statistic {key}.", "device")


_RECEIVE = ("bytes", "packets", "errs", "drop", "fifo", "frame", "compressed", "multicast")
_TRANSMIT = ("bytes", "packets", "errs", "drop", "fifo", "colls", "carrier", "compressed")
_KNOWN = (
    *(f"receive_{k}" for k in _RECEIVE),
    *(f"transmit_{k}" for k in _TRANSMIT),
    "receive_nohandler",
)
_SPECS = {key: spec_for(key) for key in _KNOWN}


def parse_netdev(text: str) -> dict[str, dict[str, int]]:
    """``{device: {receive_bytes: n, ...}}`` keyed by the file's own column headers."""
    lines = text.splitlines()
    if len(lines) < 2:
        raise ParseError(PATH, "missing header lines")
    parts = lines[1].split("|")
    if len(parts) != 3:
        raise ParseError(PATH, f"invalid header line: {lines[1][:80]!r}")
    receive, transmit = parts[1].split(), parts[2].split()
    keys = [f"receive_{h}" for h in receive] + [f"transmit_{h}" for h in transmit]
    if not all(_HEADER.fullmatch(h) for h in receive + transmit):
        raise ParseError(PATH, f"invalid column name in header: {lines[1][:80]!r}")
    stats: dict[str, dict[str, int]] = {}
    for line in lines[2:]:
        if not line.strip():
            continue
        m = _IFACE.match(line.lstrip(" "))
        if m is None:
            raise ParseError(PATH, f"no interface name in line: {line[:80]!r}")
        values = m.group(2).lstrip(" ").split()
        if len(values) != len(keys):
            raise ParseError(PATH, f"expected {len(keys)} values, got {len(values)}")
        numbers = uints(values)
        if numbers is None:
            numbers = [uint(v, PATH) for v in values]
        stats[m.group(1)] = dict(zip(keys, numbers, strict=True))
    return stats


class NetdevCollector(Collector):
    name = "netdev"
    specs = tuple(_SPECS.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH, f"{SYS_NET}/*/{NOHANDLER}")

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        exclude = option_regex(opts.netdev_device_exclude) if opts.netdev_device_exclude else None
        sysfs = attributes(snap, SYS_NET, [NOHANDLER])
        for dev, values in parse_netdev(text).items():
            if exclude is not None and exclude.search(dev):
                continue
            for key, value in values.items():
                spec = _SPECS.get(key) or spec_for(key)
                out.add(spec, value, dev)
            nohandler = sysfs_value(sysfs.get(dev, {}).get(NOHANDLER))
            if nohandler is not None:
                out.add(_SPECS["receive_nohandler"], uint(nohandler, f"{SYS_NET}/{dev}"), dev)


COLLECTORS = [NetdevCollector]
