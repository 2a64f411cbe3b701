"""The /proc collectors produce every family node_exporter 1.5 produces from the
same files on this machine, with node_exporter's type.

The expected names are those of a real ``prometheus-node-exporter`` 1.5.0 scrape (default
collectors, plus ``--collector.processes``), hard-coded here.  Each group of names is only
expected when the files it comes from exist on the machine running the test.
"""

from __future__ import annotations

import glob
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.arp import ArpCollector
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.collectors.conntrack import ConntrackCollector
from fleetwatch.exporters.host.collectors.cpu import CpuCollector
from fleetwatch.exporters.host.collectors.entropy import EntropyCollector
from fleetwatch.exporters.host.collectors.filefd import FilefdCollector
from fleetwatch.exporters.host.collectors.meminfo import MeminfoCollector
from fleetwatch.exporters.host.collectors.netstat import NetstatCollector
from fleetwatch.exporters.host.collectors.pressure import PressureCollector
from fleetwatch.exporters.host.collectors.processes import ProcessesCollector
from fleetwatch.exporters.host.collectors.schedstat import SchedstatCollector
from fleetwatch.exporters.host.collectors.sockstat import SockstatCollector
from fleetwatch.exporters.host.collectors.softnet import SoftnetCollector
from fleetwatch.exporters.host.collectors.stat import StatCollector
from fleetwatch.exporters.host.collectors.udp_queues import UdpQueuesCollector
from fleetwatch.exporters.host.collectors.vmstat import VmstatCollector
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.snapshot import Snapshot

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/stat").exists(),
    reason="needs a Linux /proc",
)

COLLECTORS: list[Collector] = [
    ArpCollector(),
    ConntrackCollector(),
    CpuCollector(),
    EntropyCollector(),
    FilefdCollector(),
    MeminfoCollector(),
    NetstatCollector(),
    PressureCollector(),
    ProcessesCollector(),
    SchedstatCollector(),
    SockstatCollector(),
    SoftnetCollector(),
    StatCollector(),
    UdpQueuesCollector(),
    VmstatCollector(),
]

G, C, U = "gauge", "counter", "unknown"
_MEMINFO = [
    "Active_anon_bytes",
    "Active_bytes",
    "Active_file_bytes",
    "AnonHugePages_bytes",
    "AnonPages_bytes",
    "Balloon_bytes",
    "Bounce_bytes",
    "Buffers_bytes",
    "Cached_bytes",
    "CommitLimit_bytes",
    "Committed_AS_bytes",
    "DirectMap1G_bytes",
    "DirectMap2M_bytes",
    "DirectMap4k_bytes",
    "Dirty_bytes",
    "FileHugePages_bytes",
    "FilePmdMapped_bytes",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
    "HugePages_Total",
    "Hugepagesize_bytes",
    "Hugetlb_bytes",
    "Inactive_anon_bytes",
    "Inactive_bytes",
    "Inactive_file_bytes",
    "KReclaimable_bytes",
    "KernelStack_bytes",
    "Mapped_bytes",
    "MemAvailable_bytes",
    "MemFree_bytes",
    "MemTotal_bytes",
    "Mlocked_bytes",
    "NFS_Unstable_bytes",
    "PageTables_bytes",
    "Percpu_bytes",
    "SReclaimable_bytes",
    "SUnreclaim_bytes",
    "SecPageTables_bytes",
    "ShmemHugePages_bytes",
    "ShmemPmdMapped_bytes",
    "Shmem_bytes",
    "Slab_bytes",
    "SwapCached_bytes",
    "SwapFree_bytes",
    "SwapTotal_bytes",
    "Unevictable_bytes",
    "VmallocChunk_bytes",
    "VmallocTotal_bytes",
    "VmallocUsed_bytes",
    "WritebackTmp_bytes",
    "Writeback_bytes",
    "Zswap_bytes",
    "Zswapped_bytes",
]
_NETSTAT4 = [
    "Icmp_InErrors",
    "Icmp_InMsgs",
    "Icmp_OutMsgs",
    "IpExt_InOctets",
    "IpExt_OutOctets",
    "Ip_Forwarding",
    "TcpExt_ListenDrops",
    "TcpExt_ListenOverflows",
    "TcpExt_SyncookiesFailed",
    "TcpExt_SyncookiesRecv",
    "TcpExt_SyncookiesSent",
    "TcpExt_TCPSynRetrans",
    "TcpExt_TCPTimeouts",
    "Tcp_ActiveOpens",
    "Tcp_CurrEstab",
    "Tcp_InErrs",
    "Tcp_InSegs",
    "Tcp_OutRsts",
    "Tcp_OutSegs",
    "Tcp_PassiveOpens",
    "Tcp_RetransSegs",
    "UdpLite_InErrors",
    "Udp_InDatagrams",
    "Udp_InErrors",
    "Udp_NoPorts",
    "Udp_OutDatagrams",
    "Udp_RcvbufErrors",
    "Udp_SndbufErrors",
]
_NETSTAT6 = [
    "Icmp6_InErrors",
    "Icmp6_InMsgs",
    "Icmp6_OutMsgs",
    "Ip6_InOctets",
    "Ip6_OutOctets",
    "Udp6_InDatagrams",
    "Udp6_InErrors",
    "Udp6_NoPorts",
    "Udp6_OutDatagrams",
    "Udp6_RcvbufErrors",
    "Udp6_SndbufErrors",
    "UdpLite6_InErrors",
]
_SOCKSTAT4 = [
    "FRAG_inuse",
    "FRAG_memory",
    "RAW_inuse",
    "TCP_alloc",
    "TCP_inuse",
    "TCP_mem",
    "TCP_mem_bytes",
    "TCP_orphan",
    "TCP_tw",
    "UDPLITE_inuse",
    "UDP_inuse",
    "UDP_mem",
    "UDP_mem_bytes",
    "sockets_used",
]
_SOCKSTAT6 = [
    "FRAG6_inuse",
    "FRAG6_memory",
    "RAW6_inuse",
    "TCP6_inuse",
    "UDP6_inuse",
    "UDPLITE6_inuse",
]
_CONNTRACK_STAT = [
    "drop",
    "early_drop",
    "found",
    "ignore",
    "insert",
    "insert_failed",
    "invalid",
    "search_restart",
]


def _exists(path: str) -> Callable[[], bool]:
    return lambda: Path(path).exists()


def _meminfo_has(name: str) -> Callable[[], bool]:
    # kernels differ in fields (Zswap, SecPageTables...): expect the ones this kernel has
    first = name.split("_")[0]
    return lambda: bool(re.search(rf"^{first}[_(:]", Path("/proc/meminfo").read_text(), re.M))


def _arp_has_entries() -> bool:
    return len(Path("/proc/net/arp").read_text().splitlines()) > 1


_ALWAYS = _exists("/proc/stat")
# (family name, type, when node_exporter produces it)
EXPECTED: list[tuple[str, str, Callable[[], bool]]] = [
    ("node_arp_entries", G, _arp_has_entries),
    ("node_boot_time_seconds", G, _ALWAYS),
    ("node_context_switches_total", C, _ALWAYS),
    ("node_cpu_guest_seconds_total", C, _ALWAYS),
    ("node_cpu_seconds_total", C, _ALWAYS),
    ("node_entropy_available_bits", G, _ALWAYS),
    ("node_entropy_pool_size_bits", G, _ALWAYS),
    ("node_filefd_allocated", G, _ALWAYS),
    ("node_filefd_maximum", G, _ALWAYS),
    ("node_forks_total", C, _ALWAYS),
    ("node_intr_total", C, _ALWAYS),
    ("node_procs_blocked", G, _ALWAYS),
    ("node_procs_running", G, _ALWAYS),
    *[(f"node_memory_{n}", G, _meminfo_has(n)) for n in _MEMINFO],
    *[(f"node_netstat_{n}", U, _ALWAYS) for n in _NETSTAT4],
    *[(f"node_netstat_{n}", U, _exists("/proc/net/snmp6")) for n in _NETSTAT6],
    ("node_nf_conntrack_entries", G, _exists("/proc/sys/net/netfilter/nf_conntrack_count")),
    ("node_nf_conntrack_entries_limit", G, _exists("/proc/sys/net/netfilter/nf_conntrack_max")),
    *[
        (f"node_nf_conntrack_stat_{n}", G, _exists("/proc/net/stat/nf_conntrack"))
        for n in _CONNTRACK_STAT
    ],
    ("node_pressure_cpu_waiting_seconds_total", C, _exists("/proc/pressure/cpu")),
    ("node_pressure_io_stalled_seconds_total", C, _exists("/proc/pressure/io")),
    ("node_pressure_io_waiting_seconds_total", C, _exists("/proc/pressure/io")),
    ("node_pressure_memory_stalled_seconds_total", C, _exists("/proc/pressure/memory")),
    ("node_pressure_memory_waiting_seconds_total", C, _exists("/proc/pressure/memory")),
    ("node_processes_max_processes", G, _ALWAYS),
    ("node_processes_max_threads", G, _ALWAYS),
    ("node_processes_pids", G, _ALWAYS),
    ("node_processes_state", G, _ALWAYS),
    ("node_processes_threads", G, _ALWAYS),
    ("node_processes_threads_state", G, _ALWAYS),
    ("node_schedstat_running_seconds_total", C, _exists("/proc/schedstat")),
    ("node_schedstat_timeslices_total", C, _exists("/proc/schedstat")),
    ("node_schedstat_waiting_seconds_total", C, _exists("/proc/schedstat")),
    *[(f"node_sockstat_{n}", G, _exists("/proc/net/sockstat")) for n in _SOCKSTAT4],
    *[(f"node_sockstat_{n}", G, _exists("/proc/net/sockstat6")) for n in _SOCKSTAT6],
    ("node_softnet_dropped_total", C, _exists("/proc/net/softnet_stat")),
    ("node_softnet_processed_total", C, _exists("/proc/net/softnet_stat")),
    ("node_softnet_times_squeezed_total", C, _exists("/proc/net/softnet_stat")),
    ("node_udp_queues", G, _exists("/proc/net/udp")),
    ("node_vmstat_oom_kill", U, _ALWAYS),
    ("node_vmstat_pgfault", U, _ALWAYS),
    ("node_vmstat_pgmajfault", U, _ALWAYS),
    ("node_vmstat_pgpgin", U, _ALWAYS),
    ("node_vmstat_pgpgout", U, _ALWAYS),
    ("node_vmstat_pswpin", U, _ALWAYS),
    ("node_vmstat_pswpout", U, _ALWAYS),
]


def local_snapshot(collectors: list[Collector], opts: Options) -> Snapshot:
    """What the remote script would read, read here with Python (commands are left out)."""
    snap = Snapshot()
    for c in collectors:
        for pattern in c.files(opts):
            for path in glob.glob(pattern):
                try:
                    snap.files[path] = Path(path).read_text(errors="replace")
                except OSError:
                    continue
    return snap


@pytest.fixture(scope="module")
def produced() -> dict[str, str]:
    """Exposed sample name -> type, for all /proc collectors over this machine's files."""
    opts = Options()
    result = run_collectors(COLLECTORS, local_snapshot(COLLECTORS, opts), opts)
    assert result.errors == {}
    types: dict[str, str] = {}
    families: Families = result.families
    for metric in families.collect():
        for sample in metric.samples:
            types[sample.name] = metric.type
    return types


@pytest.mark.parametrize(("name", "typ", "when"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_node_exporter_family_is_produced(
    produced: dict[str, str], name: str, typ: str, when: Callable[[], bool]
) -> None:
    if not when():
        pytest.skip("the source file or field is absent on this machine")
    assert name in produced
    assert produced[name] == typ


def test_every_collector_succeeds_on_this_machine(produced: dict[str, str]) -> None:
    assert produced["node_scrape_collector_success"] == "gauge"
