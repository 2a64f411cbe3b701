"""ipvs: IP Virtual Server totals (/proc/net/ip_vs_stats) and backends (/proc/net/ip_vs).

    node_ipvs_connections_total 2.3765872e+07
    node_ipvs_backend_connections_active{local_address="192.168.0.22",local_mark="",local_port="3306",proto="TCP",remote_address="192.168.82.22",remote_port="3306"} 248

Backends with the same labels are summed, as node_exporter does.  No ip_vs_stats (module not
loaded): NoData.  Addresses are printed as Go's net.IP does (IPv4-mapped IPv6 as IPv4).
"""  # noqa: E501

from __future__ import annotations

import ipaddress

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import uint
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

STATS = "/proc/net/ip_vs_stats"
BACKENDS = "/proc/net/ip_vs"
LABELS = ("local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark")

TOTALS = (
    counter("node_ipvs_connections_total", "The total number of connections made."),
    counter("node_ipvs_incoming_packets_total", "The total number of incoming packets."),
    counter("node_ipvs_outgoing_packets_total", "The total number of outgoing packets."),
    counter("node_ipvs_incoming_bytes_total", "The total amount of incoming data."),
    counter("node_ipvs_outgoing_bytes_total", "The total amount of outgoing data."),
)
ACTIVE = gauge(
    "node_ipvs_backend_connections_active",
    "The current active connections by local and remote address.",
    *LABELS,
)
INACTIVE = gauge(
    "node_ipvs_backend_connections_inactive",
    "The current inactive connections by local and remote address.",
    *LABELS,
)
WEIGHT = gauge(
    "node_ipvs_backend_weight", "The current backend weight by local and remote address.", *LABELS
)


def _hex(text: str, source: str) -> int:
    if not text or any(c not in "0123456789abcdefABCDEF" for c in text) or len(text) > 16:
        raise ParseError(source, f"not a hex counter: {text[:40]!r}")
    return int(text, 16)


def parse_ipvs_stats(text: str) -> list[int]:
    """The five totals (hex) of the third line."""
    lines = text.split("\n", 3)
    if len(lines) != 4:
        raise ParseError(STATS, "too short")
    fields = lines[2].split()
    if len(fields) != 5:
        raise ParseError(STATS, "unexpected number of fields")
    return [_hex(f, STATS) for f in fields]


def _address(text: str) -> tuple[str, str]:
    """(address as Go prints it, decimal port) of ``C0A80016:0CEA`` or ``[v6 address]:0035``."""
    try:
        if len(text) == 13 and text[8] == ":":
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address
            ip = ipaddress.IPv4Address(bytes.fromhex(text[:8]))
        elif len(text) == 46 and text[0] == "[" and text[40:42] == "]:":
            ip = ipaddress.IPv6Address(text[1:40])
            if ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
        else:
            raise ValueError(text)
        port = text[-4:]
        return str(ip), str(_hex(port, BACKENDS))
    except ValueError:
        raise ParseError(BACKENDS, f"invalid address:port {text[:50]!r}") from None


def parse_ipvs_backends(text: str) -> dict[tuple[str, ...], list[int]]:
    """label values (LABELS order) -> [active, inactive, weight], summed per label set."""
    out: dict[tuple[str, ...], list[int]] = {}
    proto = mark = local = ""
    local_port = "0"
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] in ("IP", "Prot"):
            continue
        if len(fields) < 2:
            raise ParseError(BACKENDS, f"unexpected line {line[:80]!r}")
        if fields[1] == "RemoteAddress:Port":
            continue
        if fields[0] in ("TCP", "UDP"):
            proto, mark = fields[0], ""
            local, local_port = _address(fields[1])
        elif fields[0] == "FWM":
            proto, mark, local, local_port = "FWM", fields[1], "", "0"
        elif fields[0] == "->" and len(fields) >= 6:
            remote, remote_port = _address(fields[1])
            weight, active, inactive = (uint(f, BACKENDS) for f in fields[3:6])
            key = (local, local_port, remote, remote_port, proto, mark)
            sums = out.setdefault(key, [0, 0, 0])
            sums[0] += active
            sums[1] += inactive
            sums[2] += weight
    return out


class IpvsCollector(Collector):
    name = "ipvs"
    specs = (*TOTALS, ACTIVE, INACTIVE, WEIGHT)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (STATS, BACKENDS)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.file(STATS)
        if text is None:
            raise NoData(STATS)
        for spec, value in zip(TOTALS, parse_ipvs_stats(text), strict=True):
            out.add(spec, value)
        for key, (active, inactive, weight) in parse_ipvs_backends(snap.require(BACKENDS)).items():
            out.add(ACTIVE, active, *key)
            out.add(INACTIVE, inactive, *key)
            out.add(WEIGHT, weight, *key)


COLLECTORS = [IpvsCollector]
