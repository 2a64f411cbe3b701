"""The collector interface of the host module.

A collector declares which files (shell glob patterns) and which shell snippets it needs; the
script builder (``fleetwatch.exporters.host.script``) joins the needs of every enabled collector
into ONE remote command, and the collector turns the resulting ``Snapshot`` into samples.
Parsing lives in module-level pure functions (text in, values out) next to each collector.

A collector raises ``ParseError`` (or lets ValueError / IndexError / KeyError escape, which the
runner turns into a ParseError naming the collector) on garbage; the probe then reports
``node_scrape_collector_success{collector}`` 0 for it and goes on with the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from fleetwatch.exporters.families import Families, Spec
from fleetwatch.exporters.host.snapshot import Snapshot

# node_exporter 1.5 defaults (collector/filesystem_linux.go, diskstats_linux.go, netstat, vmstat)
DEFAULT_MOUNT_POINTS_EXCLUDE = (
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
DEFAULT_FS_TYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs"
    r"|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs"
    r"|erofs|sysfs|tracefs)$"
)
DEFAULT_DISKSTATS_DEVICE_EXCLUDE = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"
DEFAULT_NETSTAT_FIELDS = (
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"
    r"|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)"
    r"|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
    r"|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)
DEFAULT_VMSTAT_FIELDS = r"^(oom_kill|pgpg|pswp|pg.*fault).*"
DEFAULT_SYSTEMD_UNIT_INCLUDE = r".+"
DEFAULT_SYSTEMD_UNIT_EXCLUDE = r".+\.(automount|device|mount|scope|slice)"


@dataclass(frozen=True)
class Options:
    """Per-host collector options, with node_exporter's defaults."""

    mount_points_exclude: str = DEFAULT_MOUNT_POINTS_EXCLUDE
    fs_types_exclude: str = DEFAULT_FS_TYPES_EXCLUDE
    diskstats_device_exclude: str = DEFAULT_DISKSTATS_DEVICE_EXCLUDE
    netstat_fields: str = DEFAULT_NETSTAT_FIELDS
    vmstat_fields: str = DEFAULT_VMSTAT_FIELDS
    netdev_device_exclude: str = ""
    textfile_directory: str = ""
    #: node_exporter's --collector.systemd.unit-include / unit-exclude (anchored regexes)
    systemd_unit_include: str = DEFAULT_SYSTEMD_UNIT_INCLUDE
    systemd_unit_exclude: str = DEFAULT_SYSTEMD_UNIT_EXCLUDE
    #: seconds a network filesystem's statfs may take in one probe (node_exporter's
    #: --collector.filesystem.mount-timeout); a mount still stuck then is skipped until it
    #: answers.  Applies to the perl session; the sh one has no way to bound a syscall.
    mount_timeout: float = 5.0
    #: node_exporter's --path.procfs / --path.sysfs / --path.rootfs / --path.udev.data: where
    #: the watched system's /proc, /sys, / and udev database are (a host's mounted in a
    #: container, a fixture tree).  They move the files the plan reads; the snippets and
    #: syscalls (statfs, uname, clock, adjtimex) still see the kernel that runs them.
    procfs: str = "/proc"
    sysfs: str = "/sys"
    rootfs: str = "/"
    udev_data: str = "/run/udev/data"


class NoData(Exception):
    """The collector's source does not exist on this host (no /proc/mdstat, no hwmon class):
    ``node_scrape_collector_success`` 0, as node_exporter's ErrNoData, but not an error."""


class Collector(ABC):
    """One node_exporter collector.  Subclasses set ``name`` and ``specs``."""

    name: ClassVar[str]
    specs: ClassVar[tuple[Spec, ...]]
    #: enabled unless the inventory disables it (node_exporter's default set)
    default: ClassVar[bool] = True

    def files(self, opts: Options) -> tuple[str, ...]:
        """Absolute paths or shell glob patterns of the files this collector reads."""
        return ()

    def commands(self, opts: Options) -> dict[str, str]:
        """Shell snippets (POSIX sh) whose output this collector reads, by unique key.

        A snippet runs inside ``{ ...; } 2>&1`` of the one remote script: it must not exit, must
        not read stdin, and must degrade (print nothing or an error line) when a tool is absent.
        """
        return {}

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...] | None:
        """Everything ``collect`` reads from ``snap``, for a collector whose sources rarely
        change between probes (sysfs attributes, os-release, mounts): while they compare equal
        to the last probe's of the same target, the runner reuses that probe's result instead
        of parsing again.  None (the default): collect every time."""
        return None

    @abstractmethod
    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        """Turn the snapshot into samples of ``specs``."""
