"""Registry of the host collectors, in node_exporter's naming.

Each module below defines ``COLLECTORS``: the collector classes it provides.
"""

from __future__ import annotations

import importlib

from fleetwatch.exporters.host.collectors.base import Collector, Options

__all__ = ["Collector", "Options", "all_collectors", "collector_names", "select"]

_MODULES = (
    # /proc based
    "cpu",
    "meminfo",
    "loadavg",
    "stat",
    "vmstat",
    "filefd",
    "netstat",
    "sockstat",
    "pressure",
    "conntrack",
    "entropy",
    "processes",
    "softnet",
    "arp",
    "udp_queues",
    "schedstat",
    # filesystems, devices, /sys, commands
    "filesystem",
    "diskstats",
    "netdev",
    "netclass",
    "uname",
    "time",
    "timex",
    "os_release",
    "cpufreq",
    "thermal",
    "hwmon",
    "powersupply",
    "dmi",
    "edac",
    "mdadm",
    "textfile",
    "selinux",
    "gpu",
    # storage, network and hardware classes (issue 16)
    "bcache",
    "bonding",
    "btrfs",
    "fibrechannel",
    "infiniband",
    "ipvs",
    "nfs",
    "nfsd",
    "nvme",
    "rapl",
    "tapestats",
    "xfs",
    "zfs",
    "systemd",  # off by default, as in node_exporter
)

_cache: list[Collector] | None = None


def all_collectors() -> list[Collector]:
    """One instance of every collector, sorted by name."""
    global _cache
    if _cache is None:
        found: list[Collector] = []
        for mod in _MODULES:
            module = importlib.import_module(f"{__name__}.{mod}")
            found.extend(cls() for cls in module.COLLECTORS)
        found.sort(key=lambda c: c.name)
        _cache = found
    return list(_cache)


def collector_names() -> list[str]:
    return [c.name for c in all_collectors()]


def select(enable: list[str] | None = None, disable: list[str] | None = None) -> list[Collector]:
    """The default collectors plus ``enable`` minus ``disable`` (unknown names raise KeyError)."""
    by_name = {c.name: c for c in all_collectors()}
    for name in [*(enable or []), *(disable or [])]:
        if name not in by_name:
            raise KeyError(name)
    chosen = {n for n, c in by_name.items() if c.default} | set(enable or [])
    chosen -= set(disable or [])
    return [by_name[n] for n in sorted(chosen)]
