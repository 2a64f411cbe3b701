"""The host collectors' options (``collectors.options`` of the inventory), with node_exporter
1.5's defaults: part of the inventory model, read by the collectors."""

from __future__ import annotations

from dataclasses import dataclass

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
