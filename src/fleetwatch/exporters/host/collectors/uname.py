"""uname: /proc/sys/kernel/{ostype,osrelease,version,hostname,domainname} and ``uname -m``.

    node_uname_info{domainname="(none)",machine="x86_64",nodename="vm",release="6.18.44-fc-v769",sysname="Linux",version="#1 SMP PREEMPT_DYNAMIC @0"} 1

The same strings uname(2) returns to node_exporter; the machine name has no /proc file on
older kernels, hence the command.
"""  # noqa: E501

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.script_vars import ARCH_VAR
from fleetwatch.exporters.host.snapshot import Snapshot

KERNEL = "/proc/sys/kernel"
CMD = "uname_m"
INFO = gauge(
    "node_uname_info",
    "Labeled system information as provided by the uname system call.",
    "sysname", "release", "version", "machine", "nodename", "domainname",
)  # fmt: skip
# uname(2) field -> /proc/sys/kernel file
FIELDS = {
    "sysname": "ostype",
    "release": "osrelease",
    "version": "version",
    "nodename": "hostname",
    "domainname": "domainname",
}


def parse_line(text: str | None, source: str) -> str:
    """The one line of a /proc/sys/kernel file or of ``uname -m``."""
    if text is None:
        raise ParseError(source, "not readable")
    value = text.removesuffix("\n")
    if not value or "\n" in value or "\x00" in value:
        raise ParseError(source, f"expected one line, got {text[:80]!r}")
    return value


class UnameCollector(Collector):
    name = "uname"
    specs = (INFO,)

    def files(self, opts: Options) -> tuple[str, ...]:
        return tuple(f"{KERNEL}/{name}" for name in FIELDS.values())

    def commands(self, opts: Options) -> dict[str, str]:
        return {CMD: f'printf "%s\\n" "${ARCH_VAR}"'}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        values = {
            field: parse_line(snap.file(f"{KERNEL}/{name}"), f"{KERNEL}/{name}")
            for field, name in FIELDS.items()
        }
        values["machine"] = parse_line(snap.command(CMD), "uname -m")
        out.add(INFO, 1, *(values[label] for label in INFO.labels))


COLLECTORS = [UnameCollector]
