import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.netdev import NetdevCollector, parse_netdev
from fleetwatch.exporters.host.snapshot import Snapshot

NETDEV = (FIXTURES / "proc/net/dev").read_text()
NOHANDLER = "/sys/class/net/eth0/statistics/rx_nohandler"


def collect(files: dict[str, str], opts: Options | None = None) -> Families:
    out = Families()
    NetdevCollector().collect(Snapshot(files=files), out, opts or Options())
    return out


def test_parse_real_net_dev() -> None:
    stats = parse_netdev(NETDEV)
    assert set(stats) == {"lo", "ifb0", "ifb1", "eth0"}
    assert stats["eth0"]["receive_bytes"] == 244456571
    assert stats["eth0"]["transmit_colls"] == 0
    assert len(stats["eth0"]) == 16


def test_collect_names_and_nohandler() -> None:
    files = {
        "/proc/net/dev": NETDEV,
        NOHANDLER: (FIXTURES / "sys/class/net/eth0/statistics/rx_nohandler").read_text(),
    }
    out = collect(files)
    eth0 = {"device": "eth0"}
    assert out.get("node_network_receive_bytes_total", eth0) == 244456571
    assert out.get("node_network_receive_packets_total", eth0) == 6163
    assert out.get("node_network_transmit_bytes_total", eth0) == 362543
    assert out.get("node_network_transmit_packets_total", eth0) == 3582
    assert out.get("node_network_transmit_carrier_total", eth0) == 0
    assert out.get("node_network_receive_nohandler_total", eth0) == 0
    assert out.get("node_network_receive_nohandler_total", {"device": "lo"}) is None
    assert out.get("node_network_receive_bytes_total", {"device": "lo"}) == 184456


def test_device_exclude() -> None:
    out = collect({"/proc/net/dev": NETDEV}, Options(netdev_device_exclude="^(lo|ifb[0-9]+)$"))
    assert {lbl["device"] for lbl, _ in out.samples("node_network_receive_bytes_total")} == {"eth0"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Inter-|\n face |bytes\n",
        NETDEV.replace("244456571", "x"),
        NETDEV.replace("    0          0\n", "\n", 1),
        NETDEV.replace("eth0:", "eth0 "),
        NETDEV.replace("multicast|", "multi\u00e9|"),
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/dev"):
        parse_netdev(text)


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="not readable"):
        collect({})
