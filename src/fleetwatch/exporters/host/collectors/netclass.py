"""netclass: the attributes of /sys/class/net/<iface>/.

    node_network_up{device="eth0"} 1
    node_network_info{address="02:fc:00:00:00:01",broadcast="ff:ff:ff:ff:ff:ff",device="eth0",duplex="unknown",ifalias="",operstate="up"} 1
    node_network_speed_bytes{device="eth0"} -125000

An attribute whose read fails (``carrier`` or ``speed`` of a link that is down) is absent and
its family skipped for that device, as node_exporter does.  A speed of -1 (unknown) gives
-125000: node_exporter 1.5 drops it only with --collector.netclass.ignore-invalid-speed.
"""  # noqa: E501

from __future__ import annotations

from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes, go_int, sysfs_value
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_NET = "/sys/class/net"


def _prop(name: str, kind: str = "gauge") -> Spec:
    make = counter if kind == "counter" else gauge
    return make(f"node_network_{name}", f"Network device property: {name}", "device")


UP = gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", "device")
INFO = gauge(
    "node_network_info",
    "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
    "device", "address", "broadcast", "duplex", "operstate", "ifalias",
)  # fmt: skip
SPEED = _prop("speed_bytes")

# sysfs attribute -> family, for the integer attributes node_exporter exposes as they are
NUMERIC: dict[str, Spec] = {
    "addr_assign_type": _prop("address_assign_type"),
    "carrier": _prop("carrier"),
    "carrier_changes": _prop("carrier_changes_total", "counter"),
    "carrier_up_count": _prop("carrier_up_changes_total", "counter"),
    "carrier_down_count": _prop("carrier_down_changes_total", "counter"),
    "dev_id": _prop("device_id"),
    "dormant": _prop("dormant"),
    "flags": _prop("flags"),
    "ifindex": _prop("iface_id"),
    "iflink": _prop("iface_link"),
    "link_mode": _prop("iface_link_mode"),
    "mtu": _prop("mtu_bytes"),
    "name_assign_type": _prop("name_assign_type"),
    "netdev_group": _prop("net_dev_group"),
    "tx_queue_len": _prop("transmit_queue_length"),
    "type": _prop("protocol_type"),
}
STRINGS = ("address", "broadcast", "duplex", "operstate", "ifalias")
ATTRIBUTES = (*NUMERIC, "speed", *STRINGS)


def parse_iface(dev: str, attrs: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """(integer attributes that could be read, string attributes with "" for unreadable)."""
    numbers: dict[str, int] = {}
    for attr in (*NUMERIC, "speed"):
        value = sysfs_value(attrs.get(attr))
        if value is not None:
            numbers[attr] = go_int(value, f"{SYS_NET}/{dev}/{attr}")
    strings = {attr: sysfs_value(attrs.get(attr)) or "" for attr in STRINGS}
    return numbers, strings


class NetclassCollector(Collector):
    name = "netclass"
    specs = (UP, INFO, SPEED, *NUMERIC.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return tuple(f"{SYS_NET}/*/{attr}" for attr in ATTRIBUTES)

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return tuple(snap.under(SYS_NET + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for dev, attrs in attributes(snap, SYS_NET, ATTRIBUTES).items():
            numbers, strings = parse_iface(dev, attrs)
            out.add(UP, 1 if strings["operstate"] == "up" else 0, dev)
            out.add(
                INFO, 1, dev, strings["address"], strings["broadcast"], strings["duplex"],
                strings["operstate"], strings["ifalias"],
            )  # fmt: skip
            for attr, spec in NUMERIC.items():
                if attr in numbers:
                    out.add(spec, numbers[attr], dev)
            if "speed" in numbers:
                out.add(SPEED, numbers["speed"] * 125000, dev)  # Mbit/s -> bytes/s


COLLECTORS = [NetclassCollector]
