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


# What the kernel prints, and nothing else: texts of this shape take the fast path below,
# whose result is the slow parse's, filtered (tests compare them); any other text takes the
# slow parse and its error messages.
_PAIRS_TEXT = re.compile(
    r"(?:[A-Za-z0-9_]+:(?: [A-Za-z0-9_]+)+\n[A-Za-z0-9_]+:(?: -?[0-9]+)+\n)+", re.ASCII
)
_SNMP6_TEXT = re.compile(r"(?:[A-Za-z0-9_]+[ \t]+-?[0-9]+\n)+", re.ASCII)

Picks = tuple[tuple[int, Spec], ...]
#: protocol -> (family, value) of the selected fields
Selected = dict[str, list[tuple[Spec, float]]]


@functools.lru_cache(maxsize=1024)
def _header_plan(header: str, fields: str) -> tuple[str, int, Picks]:
    """Protocol, token count and selected (column, family) of one header line (the same few
    lines recur on every probe of a fleet)."""
    names = header.split(" ")
    protocol = names[0][:-1]
    picks = {n: (i, spec_for(protocol, n)) for i, n in enumerate(names) if i}
    chosen = tuple(v for n, v in picks.items() if selected(fields, f"{protocol}_{n}"))
    return protocol, len(names), chosen


@functools.lru_cache(maxsize=256)
def _snmp6_plan(names: tuple[str, ...], fields: str) -> tuple[tuple[str, Picks], ...]:
    protocols: dict[str, dict[str, tuple[int, Spec]]] = {}
    for i, name in enumerate(names):
        six = name.find("6")
        if six >= 0:
            protocol, field = name[: six + 1], name[six + 1 :]
            protocols.setdefault(protocol, {})[field] = (i, spec_for(protocol, field))
    return tuple(
        (p, tuple(v for f, v in picks.items() if selected(fields, f"{p}_{f}")))
        for p, picks in protocols.items()
    )


def _filtered(stats: Stats, fields: str) -> Selected:
    return {
        p: [(spec_for(p, f), v) for f, v in d.items() if selected(fields, f"{p}_{f}")]
        for p, d in stats.items()
    }


def select_netstat(text: str, path: str, fields: str) -> Selected:
    """The fields of a header / value file that ``fields`` selects (``parse_netstat``,
    filtered), reading only the selected columns of a well-formed text."""
    if not _PAIRS_TEXT.fullmatch(text):
        return _filtered(parse_netstat(text, path), fields)
    lines = text.split("\n")
    out: Selected = {}
    for k in range(0, len(lines) - 1, 2):
        protocol, count, picks = _header_plan(lines[k], fields)
        values = lines[k + 1].split(" ")
        if values[0] != protocol + ":":
            head = protocol + ":"
            raise ParseError(path, f"header {head[:40]!r} and values {values[0][:40]!r}")
        if len(values) != count:
            raise ParseError(path, f"field count mismatch for {protocol}:")
        out[protocol] = [(spec, float(int(values[i]))) for i, spec in picks]
    return out


def select_snmp6(text: str, fields: str) -> Selected:
    """``parse_snmp6``, filtered by ``fields``, reading only the selected lines' values."""
    if not _SNMP6_TEXT.fullmatch(text):
        return _filtered(parse_snmp6(text), fields)
    tokens = text.split()
    values = tokens[1::2]
    return {
        protocol: [(spec, float(int(values[i]))) for i, spec in picks]
        for protocol, picks in _snmp6_plan(tuple(tokens[0::2]), fields)
    }


class NetstatCollector(Collector):
    name = "netstat"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (NETSTAT, SNMP, SNMP6)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        try:
            re.compile(opts.netstat_fields)
        except re.error as exc:
            raise ParseError("netstat fields option", f"bad regex: {exc}") from None
        fields = opts.netstat_fields
        stats: Selected = {}
        for path in (NETSTAT, SNMP):
            # node_exporter merges whole protocols; the files never share one
            stats.update(select_netstat(snap.require(path), path, fields))
        text6 = snap.file(SNMP6)
        if text6 is not None:
            stats.update(select_snmp6(text6, fields))
        for samples in stats.values():
            for spec, value in samples:
                out.add(spec, value)


COLLECTORS = [NetstatCollector]
