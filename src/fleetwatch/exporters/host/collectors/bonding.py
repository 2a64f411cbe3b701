"""bonding: configured and active slaves of each bonding master, from /sys/class/net.

    node_bonding_slaves{master="bond0"} 2
    node_bonding_active{master="bond0"} 1

Masters are listed in /sys/class/net/bonding_masters, their slaves in <master>/bonding/slaves;
a slave is active when its bonding_slave/mii_status reads "up".  node_exporter reads that file
through the master's lower_<slave> (older kernels: slave_<slave>) link, which points at the
slave's own device directory: the plan reads it as /sys/class/net/<slave>/bonding_slave/
mii_status, without listing every interface's directory for those links (a Docker host has
hundreds).  As node_exporter, any of these files missing is NoData.
"""

from __future__ import annotations

from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_NET = "/sys/class/net"
MASTERS = f"{SYS_NET}/bonding_masters"
SLAVES = gauge(
    "node_bonding_slaves", "Number of configured slaves per bonding interface.", "master"
)
ACTIVE = gauge("node_bonding_active", "Number of active slaves per bonding interface.", "master")


def parse_bonding(files: dict[str, str]) -> dict[str, tuple[int, int]]:
    """master -> (slaves, active slaves) from the files read under /sys/class/net."""
    masters = files.get(MASTERS)
    if masters is None:
        raise NoData(MASTERS)
    out: dict[str, tuple[int, int]] = {}
    for master in masters.split():
        slaves_path = f"{SYS_NET}/{master}/bonding/slaves"
        slaves = files.get(slaves_path)
        if slaves is None:
            raise NoData(slaves_path)
        total = active = 0
        for slave in slaves.split():
            state = files.get(f"{SYS_NET}/{slave}/bonding_slave/mii_status")
            if state is None:
                raise NoData(f"{SYS_NET}/{slave}/bonding_slave/mii_status")
            total += 1
            active += state.strip() == "up"
        out[master] = (total, active)
    return out


class BondingCollector(Collector):
    name = "bonding"
    specs = (SLAVES, ACTIVE)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            MASTERS,
            f"{SYS_NET}/*/bonding/slaves",
            f"{SYS_NET}/*/bonding_slave/mii_status",
        )

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        files = {SYS_NET + "/" + rest: text for rest, text in snap.under(SYS_NET + "/")}
        for master, (total, active) in parse_bonding(files).items():
            out.add(SLAVES, total, master)
            out.add(ACTIVE, active, master)


COLLECTORS = [BondingCollector]
