import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.arp import ArpCollector, parse_arp
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.snapshot import Snapshot

ARP = (FIXTURES / "net/arp").read_text()
HEADER = ARP.splitlines()[0]


def test_collect_real_file() -> None:
    out = Families()
    ArpCollector().collect(Snapshot(files={"/proc/net/arp": ARP}), out, Options())
    assert out.samples("node_arp_entries") == [({"device": "eth0"}, 1.0)]


def test_counts_by_device() -> None:
    # edge case: made-up entries on two devices, one incomplete (flags 0x0)
    text = (
        f"{HEADER}\n"
        "10.0.0.1 0x1 0x2 02:00:00:00:00:01 * eth0\n"
        "10.0.0.2 0x1 0x0 00:00:00:00:00:00 * eth0\n"
        "10.0.1.1 0x1 0x2 02:00:00:00:00:02 * br-lan\n"
    )
    assert parse_arp(text) == {"eth0": 2, "br-lan": 1}
    assert parse_arp(HEADER + "\n") == {}


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="not readable"):
        ArpCollector().collect(Snapshot(), Families(), Options())


@pytest.mark.parametrize("text", ["10.0.0.1 0x1 eth0\n", "\x00\xff\x01\n"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/arp"):
        parse_arp(text)
