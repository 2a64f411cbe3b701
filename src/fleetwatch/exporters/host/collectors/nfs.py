"""nfs: NFS client statistics of /proc/net/rpc/nfs.

    node_nfs_rpcs_total 1.218785755e+09
    node_nfs_packets_total{protocol="tcp"} 69
    node_nfs_requests_total{method="GetAttr",proto="3"} 1.061909262e+09

Every procedure of NFSv2, v3 and v4 is exported, zero where the kernel's line lacks it (as
procfs's zero-valued structs make node_exporter do).  No /proc/net/rpc/nfs (no client
module): NoData.  An unknown line, or a count that does not match, is an error.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter
from fleetwatch.exporters.host.collectors._rpc import (
    V2,
    V3,
    counted,
    exact,
    parse_lines,
    procedures,
)
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/net/rpc/nfs"
V4 = (
    "Null", "Read", "Write", "Commit", "Open", "OpenConfirm", "OpenNoattr", "OpenDowngrade",
    "Close", "Setattr", "FsInfo", "Renew", "SetClientID", "SetClientIDConfirm", "Lock", "Lockt",
    "Locku", "Access", "Getattr", "Lookup", "LookupRoot", "Remove", "Rename", "Link", "Symlink",
    "Create", "Pathconf", "StatFs", "ReadLink", "ReadDir", "ServerCaps", "DelegReturn", "GetACL",
    "SetACL", "FsLocations", "ReleaseLockowner", "Secinfo", "FsidPresent", "ExchangeID",
    "CreateSession", "DestroySession", "Sequence", "GetLeaseTime", "ReclaimComplete",
    "LayoutGet", "GetDeviceInfo", "LayoutCommit", "LayoutReturn", "SecinfoNoName",
    "TestStateID", "FreeStateID", "GetDeviceList", "BindConnToSession", "DestroyClientID",
    "Seek", "Allocate", "DeAllocate", "LayoutStats", "Clone",
)  # fmt: skip
LABELS = frozenset({"net", "rpc", "proc2", "proc3", "proc4"})

PACKETS = counter(
    "node_nfs_packets_total",
    "Total NFSd network packets (sent+received) by protocol type.",
    "protocol",
)
CONNECTIONS = counter("node_nfs_connections_total", "Total number of NFSd TCP connections.")
RPCS = counter("node_nfs_rpcs_total", "Total number of RPCs performed.")
RETRANSMISSIONS = counter(
    "node_nfs_rpc_retransmissions_total", "Number of RPC transmissions performed."
)
AUTH_REFRESHES = counter(
    "node_nfs_rpc_authentication_refreshes_total",
    "Number of RPC authentication refreshes performed.",
)
REQUESTS = counter(
    "node_nfs_requests_total", "Number of NFS procedures invoked.", "proto", "method"
)


def parse_nfs(text: str) -> dict[str, dict[str, int]]:
    """{"net": {...}, "rpc": {...}, "2" / "3" / "4": {method: count}}."""
    lines = parse_lines(text, PATH)
    unknown = set(lines) - LABELS
    if unknown:
        raise ParseError(PATH, f"unknown line {sorted(unknown)[0][:40]!r}")
    net = exact(lines.get("net"), 4, "net", PATH)
    rpc = exact(lines.get("rpc"), 3, "rpc", PATH)
    return {
        "net": {"udp": net[1], "tcp": net[2], "connections": net[3]},
        "rpc": {"count": rpc[0], "retransmissions": rpc[1], "auth_refreshes": rpc[2]},
        "2": procedures(V2, counted(lines.get("proc2"), "proc2", PATH, 18)),
        "3": procedures(V3, counted(lines.get("proc3"), "proc3", PATH, 22)),
        "4": procedures(V4, counted(lines.get("proc4"), "proc4", PATH)),
    }


class NfsCollector(Collector):
    name = "nfs"
    specs = (PACKETS, CONNECTIONS, RPCS, RETRANSMISSIONS, AUTH_REFRESHES, REQUESTS)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.file(PATH)
        if text is None:
            raise NoData(PATH)
        stats = parse_nfs(text)
        out.add(PACKETS, stats["net"]["udp"], "udp")
        out.add(PACKETS, stats["net"]["tcp"], "tcp")
        out.add(CONNECTIONS, stats["net"]["connections"])
        out.add(RPCS, stats["rpc"]["count"])
        out.add(RETRANSMISSIONS, stats["rpc"]["retransmissions"])
        out.add(AUTH_REFRESHES, stats["rpc"]["auth_refreshes"])
        for proto in ("2", "3", "4"):
            for method, count in stats[proto].items():
                out.add(REQUESTS, count, proto, method)


COLLECTORS = [NfsCollector]
