"""netstat: /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6, filtered, untyped.

    node_netstat_Tcp_CurrEstab 2
    node_netstat_TcpExt_ListenDrops 0
    node_netstat_Ip6_InOctets 1.2e+06

The family name is ``node_netstat_<Protocol>_<Field>``; only names matching the
netstat-fields regex are exposed.  /proc/net/snmp6 is absent without IPv6: no samples from it.
"""

from __future__ import annotations

import functools
import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, untyped
from fleetwatch.exporters.host.collectors._sysfs import int_text, selected
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

NETSTAT = "/proc/net/netstat"
SNMP = "/proc/net/snmp"
SNMP6 = "/proc/net/snmp6"
# what the default regex selects on a current IPv4 + IPv6 kernel, declared for the catalog
KNOWN_KEYS = [
    "Icmp6_InErrors",
    "Icmp6_InMsgs",
    "Icmp6_OutMsgs",
    "Icmp_InErrors",
    "Icmp_InMsgs",
    "Icmp_OutMsgs",
    "Ip6_InOctets",
    "Ip6_OutOctets",
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
    "Udp6_InDatagrams",
    "Udp6_InErrors",
    "Udp6_NoPorts",
    "Udp6_OutDatagrams",
    "Udp6_RcvbufErrors",
    "Udp6_SndbufErrors",
    "UdpLite6_InErrors",
    "UdpLite_InErrors",
    "Udp_InDatagrams",
    "Udp_InErrors",
    "Udp_NoPorts",
    "Udp_OutDatagrams",
    "Udp_RcvbufErrors",
    "Udp_SndbufErrors",
]

Stats = dict[str, dict[str, float]]

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@functools.lru_cache(maxsize=4096)
def spec_for(protocol: str, field: str) -> Spec:
    return untyped(f"node_netstat_{protocol}_{field}", f"Statistic {protocol}{field}.")


SPECS = tuple(spec_for(*k.split("_", 1)) for k in KNOWN_KEYS)


def _value(path: str, text: str) -> float:
    if not int_text(text):
        raise ParseError(path, f"invalid value {text[:40]!r}")
    return float(int(text))


def parse_netstat(text: str, path: str = NETSTAT) -> Stats:
    """Protocol -> field -> value of a file of header / value line pairs (netstat, snmp)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or len(lines) % 2:
        raise ParseError(path, f"expected pairs of lines, got {len(lines)} lines")
    out: Stats = {}
    for names, values in zip(lines[0::2], lines[1::2], strict=True):
        if names[0] != values[0] or not names[0].endswith(":"):
            raise ParseError(path, f"header {names[0][:40]!r} and values {values[0][:40]!r}")
        if len(names) != len(values):
            raise ParseError(path, f"field count mismatch for {names[0]}")
        protocol = names[0][:-1]
        if not all(_NAME.match(n) for n in names[1:]) or not _NAME.match(protocol):
            raise ParseError(path, f"invalid field name in {protocol[:40]!r}")
        out[protocol] = {n: _value(path, v) for n, v in zip(names[1:], values[1:], strict=True)}
    return out


def parse_snmp6(text: str, path: str = SNMP6) -> Stats:
    """/proc/net/snmp6: ``Ip6InReceives 42`` lines; the protocol ends at the first ``6``."""
    out: Stats = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        six = fields[0].find("6")
        if six < 0:
            continue
        protocol, field = fields[0][: six + 1], fields[0][six + 1 :]
        if not _NAME.match(fields[0]):
            raise ParseError(path, f"invalid field name {fields[0][:40]!r}")
        out.setdefault(protocol, {})[field] = _value(path, fields[1])
    return out


class NetstatCollector(Collector):
    name = "netstat"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (NETSTAT, SNMP, SNMP6)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        stats: Stats = {}
        for path in (NETSTAT, SNMP):
            text = snap.require(path)
            # node_exporter merges whole protocols; the files never share one
            stats.update(parse_netstat(text, path))
        text6 = snap.file(SNMP6)
        if text6 is not None:
            stats.update(parse_snmp6(text6))
        try:
            re.compile(opts.netstat_fields)
        except re.error as exc:
            raise ParseError("netstat fields option", f"bad regex: {exc}") from None
        for protocol, fields in stats.items():
            for field, value in fields.items():
                if selected(opts.netstat_fields, f"{protocol}_{field}"):
                    out.add(spec_for(protocol, field), value)


COLLECTORS = [NetstatCollector]
