import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.netstat import (
    NetstatCollector,
    parse_netstat,
    parse_snmp6,
)
from fleetwatch.exporters.host.snapshot import Snapshot

FILES = {f"/proc/net/{n}": (FIXTURES / "net" / n).read_text() for n in ("netstat", "snmp", "snmp6")}


def collect(files: dict[str, str], opts: Options | None = None) -> Families:
    out = Families()
    NetstatCollector().collect(Snapshot(files=files), out, opts or Options())
    return out


def test_default_filter_over_real_files() -> None:
    out = collect(FILES)
    assert out.get("node_netstat_Ip_Forwarding") == 2
    assert out.get("node_netstat_Tcp_InSegs") == 6174
    assert out.get("node_netstat_Tcp_OutRsts") == 80
    assert out.get("node_netstat_TcpExt_SyncookiesSent") == 0
    assert out.get("node_netstat_Ip6_InOctets") == 128
    assert out.get("node_netstat_Icmp6_InMsgs") == 1
    assert out.get("node_netstat_UdpLite6_InErrors") == 0
    # not selected by the default regex
    assert out.get("node_netstat_Tcp_MaxConn") is None
    assert out.get("node_netstat_TcpExt_TW") is None
    metrics = {m.name: m for m in out.collect()}
    assert metrics["node_netstat_Tcp_InSegs"].type == "unknown"
    assert metrics["node_netstat_Tcp_InSegs"].documentation == "Statistic TcpInSegs."


def test_custom_regex_and_negative_value() -> None:
    out = collect(FILES, Options(netstat_fields=r"^Tcp_MaxConn$|^TcpExt_TW$"))
    assert out.names() == {"node_netstat_Tcp_MaxConn", "node_netstat_TcpExt_TW"}
    assert out.get("node_netstat_Tcp_MaxConn") == -1
    assert out.get("node_netstat_TcpExt_TW") == 15


def test_snmp6_absent_without_ipv6() -> None:
    files = {k: v for k, v in FILES.items() if not k.endswith("snmp6")}
    out = collect(files)
    assert out.get("node_netstat_Tcp_InSegs") == 6174
    assert not any("6_" in name for name in out.names())


def test_netstat_and_snmp_are_mandatory() -> None:
    with pytest.raises(ParseError, match="/proc/net/snmp: not readable"):
        collect({"/proc/net/netstat": FILES["/proc/net/netstat"]})


def test_snmp6_protocol_ends_at_first_six() -> None:
    assert parse_snmp6("Icmp6InType136 4\nUdpLite6InErrors 2\nnonsense\n") == {
        "Icmp6": {"InType136": 4.0},
        "UdpLite6": {"InErrors": 2.0},
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Tcp: A B\n",
        "Tcp: A B\nTcp: 1\n",
        "Tcp: A B\nUdp: 1 2\n",
        "Tcp: A B\nTcp: 1 x\n",
        "Tcp: A-B C\nTcp: 1 2\n",
        "\x00\x01\n\xff\xfe\n",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/snmp"):
        parse_netstat(text, "/proc/net/snmp")


@pytest.mark.parametrize("text", ["Ip6InReceives x\n", "Ip6In-Receives 1\n"])
def test_snmp6_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/snmp6"):
        parse_snmp6(text)
