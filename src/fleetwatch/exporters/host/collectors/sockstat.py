"""sockstat: /proc/net/sockstat and /proc/net/sockstat6.

    node_sockstat_sockets_used 14
    node_sockstat_TCP_inuse 4
    node_sockstat_TCP_mem_bytes 679936

``<PROTO>_mem`` is in pages; ``<PROTO>_mem_bytes`` multiplies it by the page size.
node_exporter uses its own ``os.Getpagesize()``, which on the monitored host itself is what
``getconf PAGESIZE`` prints; when that command is missing or prints garbage, 4096 is assumed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.script_vars import ARCH_VAR
from fleetwatch.exporters.host.snapshot import Snapshot

SOCKSTAT = "/proc/net/sockstat"
SOCKSTAT6 = "/proc/net/sockstat6"
PAGESIZE_COMMAND = "sockstat_pagesize"
DEFAULT_PAGE_SIZE = 4096
# procfs keeps only these keys of a protocol line, in this order of exposition
STATES = ("inuse", "orphan", "tw", "alloc", "mem", "memory")

SOCKETS_USED = gauge("node_sockstat_sockets_used", "Number of IPv4 sockets in use.")
# what a current IPv4 + IPv6 kernel shows, declared for the catalog
KNOWN = [
    "FRAG6_inuse",
    "FRAG6_memory",
    "FRAG_inuse",
    "FRAG_memory",
    "RAW6_inuse",
    "RAW_inuse",
    "TCP6_inuse",
    "TCP_alloc",
    "TCP_inuse",
    "TCP_mem",
    "TCP_mem_bytes",
    "TCP_orphan",
    "TCP_tw",
    "UDP6_inuse",
    "UDPLITE6_inuse",
    "UDPLITE_inuse",
    "UDP_inuse",
    "UDP_mem",
    "UDP_mem_bytes",
]

_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_NUMBER = re.compile(r"^-?[0-9]+$")


@functools.lru_cache(maxsize=1024)
def spec_for(protocol: str, state: str) -> Spec:
    return gauge(
        f"node_sockstat_{protocol}_{state}",
        f"Number of {protocol} sockets in state {state}.",
    )


# protocol names have no underscore, states may (mem_bytes)
SPECS = (SOCKETS_USED, *(spec_for(*k.split("_", 1)) for k in KNOWN))


@dataclass
class Sockstat:
    used: int | None = None
    #: protocol -> state -> value, only the states procfs knows (``inuse`` always present)
    protocols: dict[str, dict[str, int]] = field(default_factory=dict)


def parse_sockstat(text: str, path: str = SOCKSTAT) -> Sockstat:
    """``PROTO: key value key value ...`` lines; ``sockets: used N`` is the IPv4 total."""
    out = Sockstat()
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 3 or len(fields) % 2 == 0 or not fields[0].endswith(":"):
            raise ParseError(path, f"malformed line: {line[:80]!r}")
        pairs: dict[str, int] = {}
        for key, value in zip(fields[1::2], fields[2::2], strict=True):
            if not _NUMBER.match(value):
                raise ParseError(path, f"not a number in line: {line[:80]!r}")
            pairs[key] = int(value)
        protocol = fields[0][:-1]
        if protocol == "sockets":
            out.used = pairs.get("used", 0)
            continue
        if not _NAME.match(protocol):
            raise ParseError(path, f"invalid protocol {protocol[:40]!r}")
        states = {s: pairs[s] for s in STATES if s in pairs}
        states.setdefault("inuse", 0)
        out.protocols[protocol] = states
    return out


def parse_page_size(text: str | None) -> int:
    """The output of ``getconf PAGESIZE``, or 4096 when it is not a plausible page size."""
    value = (text or "").strip()
    if value.isascii() and value.isdigit() and 0 < int(value) <= 1 << 30:
        return int(value)
    return DEFAULT_PAGE_SIZE


class SockstatCollector(Collector):
    name = "sockstat"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (SOCKSTAT, SOCKSTAT6)

    def commands(self, opts: Options) -> dict[str, str]:
        # x86 pages are always 4 KiB: no fork there; elsewhere (arm64: 4, 16 or 64 KiB) ask
        return {
            PAGESIZE_COMMAND: (
                f'case "${ARCH_VAR}" in x86_64|i?86) echo 4096;; '
                "*) getconf PAGESIZE 2>/dev/null;; esac"
            )
        }

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        page_size = parse_page_size(snap.command(PAGESIZE_COMMAND))
        # either file is absent when its IP version is disabled: node_exporter skips it
        for path in (SOCKSTAT, SOCKSTAT6):
            text = snap.file(path)
            if text is None:
                continue
            stat = parse_sockstat(text, path)
            if path == SOCKSTAT and stat.used is not None:
                out.add(SOCKETS_USED, stat.used)
            for protocol, states in stat.protocols.items():
                for state, value in states.items():
                    out.add(spec_for(protocol, state), value)
                if "mem" in states:
                    out.add(spec_for(protocol, "mem_bytes"), states["mem"] * page_size)


COLLECTORS = [SockstatCollector]
