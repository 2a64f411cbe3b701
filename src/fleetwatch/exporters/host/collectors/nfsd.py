"""nfsd: NFS server statistics of /proc/net/rpc/nfsd.

    node_nfsd_server_threads 8
    node_nfsd_rpc_errors_total{error="fmt"} 1
    node_nfsd_requests_total{method="Read",proto="4"} 150

The procedures node_exporter 1.5 exports (no NULL, a subset of the v4 operations), zero where
the kernel's line lacks them.  No /proc/net/rpc/nfsd (no server module): NoData.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
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

PATH = "/proc/net/rpc/nfsd"
# proc4ops value index -> operation, as procfs 0.8 maps them
V4_OPS = {
    4: "Access", 5: "Close", 6: "Commit", 7: "Create", 8: "DelegPurge", 9: "DelegReturn",
    10: "GetAttr", 11: "GetFH", 12: "Link", 13: "Lock", 14: "Lockt", 15: "Locku", 16: "Lookup",
    17: "LookupRoot", 18: "Nverify", 19: "Open", 20: "OpenAttr", 21: "OpenConfirm",
    22: "OpenDgrd", 23: "PutFH", 26: "Read", 27: "ReadDir", 28: "ReadLink", 29: "Remove",
    30: "Rename", 31: "Renew", 32: "RestoreFH", 33: "SaveFH", 34: "SecInfo", 35: "SetAttr",
    36: "Verify", 37: "Write", 38: "RelLockOwner",
}  # fmt: skip
LABELS = frozenset({"rc", "fh", "io", "th", "ra", "net", "rpc", "proc2", "proc3", "proc4",
                    "proc4ops"})  # fmt: skip


def _c(name: str, help: str, *labels: str) -> Spec:
    return counter(f"node_nfsd_{name}", help, *labels)


RC_HITS = _c(
    "reply_cache_hits_total", "Total number of NFSd Reply Cache hits (client lost server response)."
)
RC_MISSES = _c(
    "reply_cache_misses_total",
    "Total number of NFSd Reply Cache an operation that requires caching (idempotent).",
)
RC_NOCACHE = _c(
    "reply_cache_nocache_total",
    "Total number of NFSd Reply Cache non-idempotent operations (rename/delete/…).",
)
FH_STALE = _c("file_handles_stale_total", "Total number of NFSd stale file handles")
IO_READ = _c("disk_bytes_read_total", "Total NFSd bytes read.")
IO_WRITTEN = _c("disk_bytes_written_total", "Total NFSd bytes written.")
THREADS = gauge("node_nfsd_server_threads", "Total number of NFSd kernel threads that are running.")
RA_SIZE = gauge(
    "node_nfsd_read_ahead_cache_size_blocks", "How large the read ahead cache is in blocks."
)
RA_NOT_FOUND = _c(
    "read_ahead_cache_not_found_total", "Total number of NFSd read ahead cache not found."
)
PACKETS = _c(
    "packets_total", "Total NFSd network packets (sent+received) by protocol type.", "proto"
)
CONNECTIONS = _c("connections_total", "Total number of NFSd TCP connections.")
RPC_ERRORS = _c("rpc_errors_total", "Total number of NFSd RPC errors by error type.", "error")
RPCS = _c("server_rpcs_total", "Total number of NFSd RPCs.")
REQUESTS = _c("requests_total", "Total number NFSd Requests by method and protocol.",
              "proto", "method")  # fmt: skip


def parse_nfsd(text: str) -> dict[str, list[int] | dict[str, int]]:
    """The fixed lines by label (zeros when absent), and "2" / "3" / "4": {method: count}."""
    lines = parse_lines(text, PATH, frozenset({"th"}))
    unknown = set(lines) - LABELS
    if unknown:
        raise ParseError(PATH, f"unknown line {sorted(unknown)[0][:40]!r}")
    out: dict[str, list[int] | dict[str, int]] = {
        label: exact(lines.get(label), n, label, PATH)
        for label, n in (("rc", 3), ("fh", 5), ("io", 2), ("th", 2), ("ra", 12), ("net", 4),
                         ("rpc", 5))
    }  # fmt: skip
    v2 = procedures(V2, counted(lines.get("proc2"), "proc2", PATH, 18))
    v3 = procedures(V3, counted(lines.get("proc3"), "proc3", PATH, 22))
    counted(lines.get("proc4"), "proc4", PATH)
    ops = counted(lines.get("proc4ops"), "proc4ops", PATH, 39)
    values = [0, *ops]
    out["2"] = {m: n for m, n in v2.items() if m != "Null"}
    out["3"] = {m: n for m, n in v3.items() if m != "Null"}
    out["4"] = {name: values[i] if i < len(values) else 0 for i, name in V4_OPS.items()}
    return out


class NfsdCollector(Collector):
    name = "nfsd"
    specs = (RC_HITS, RC_MISSES, RC_NOCACHE, FH_STALE, IO_READ, IO_WRITTEN, THREADS, RA_SIZE,
             RA_NOT_FOUND, PACKETS, CONNECTIONS, RPC_ERRORS, RPCS, REQUESTS)  # fmt: skip

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.file(PATH)
        if text is None:
            raise NoData(PATH)
        stats = parse_nfsd(text)

        def line(label: str) -> list[int]:
            values = stats[label]
            assert isinstance(values, list)
            return values

        rc, fh, io, th = line("rc"), line("fh"), line("io"), line("th")
        ra, net, rpc = line("ra"), line("net"), line("rpc")
        out.add(RC_HITS, rc[0])
        out.add(RC_MISSES, rc[1])
        out.add(RC_NOCACHE, rc[2])
        out.add(FH_STALE, fh[0])
        out.add(IO_READ, io[0])
        out.add(IO_WRITTEN, io[1])
        out.add(THREADS, th[0])
        out.add(RA_SIZE, ra[0])
        out.add(RA_NOT_FOUND, ra[11])
        out.add(PACKETS, net[1], "udp")
        out.add(PACKETS, net[2], "tcp")
        out.add(CONNECTIONS, net[3])
        out.add(RPC_ERRORS, rpc[2], "fmt")
        out.add(RPC_ERRORS, rpc[3], "auth")
        out.add(RPC_ERRORS, rpc[4], "cInt")
        out.add(RPCS, rpc[0])
        for proto in ("2", "3", "4"):
            methods = stats[proto]
            assert isinstance(methods, dict)
            for method, count in methods.items():
                out.add(REQUESTS, count, proto, method)


COLLECTORS = [NfsdCollector]
