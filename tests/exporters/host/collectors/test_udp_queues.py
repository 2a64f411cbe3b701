import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.udp_queues import UdpQueuesCollector, parse_udp
from fleetwatch.exporters.host.snapshot import Snapshot

# real tables taken while a datagram of 100 (v4) and of 300 (v6) bytes sat unread
FILES = {f"/proc/net/{n}": (FIXTURES / "net" / n).read_text() for n in ("udp", "udp6")}
HEADER = FILES["/proc/net/udp"].splitlines()[0]


def collect(files: dict[str, str]) -> Families:
    out = Families()
    UdpQueuesCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_collect_real_files() -> None:
    out = collect(FILES)
    assert out.get("node_udp_queues", {"ip": "v4", "queue": "rx"}) == 0x340
    assert out.get("node_udp_queues", {"ip": "v4", "queue": "tx"}) == 0
    assert out.get("node_udp_queues", {"ip": "v6", "queue": "rx"}) == 0x500
    assert out.get("node_udp_queues", {"ip": "v6", "queue": "tx"}) == 0


def test_header_only_gives_zeros_and_absent_file_nothing() -> None:
    out = collect({"/proc/net/udp": HEADER + "\n"})
    assert out.samples("node_udp_queues") == [
        ({"ip": "v4", "queue": "tx"}, 0.0),
        ({"ip": "v4", "queue": "rx"}, 0.0),
    ]
    assert len(collect({})) == 0


@pytest.mark.parametrize(
    "line",
    [
        "1: 0100007F:B946 00000000:0000 07",
        "1: 0100007F:B946 00000000:0000 07 00000000-00000340 00:00000000 00000000 0",
        "1: 0100007F:B946 00000000:0000 07 0000000x:00000340 00:00000000 00000000 0",
        "x: 0100007F:B946 00000000:0000 07 00000000:00000340 00:00000000 00000000 0",
        "1: 0100007F:B946 00000000:0000 07 00000000:00000340 00:00000000 00000000 root",
        "\x00\xff\x01 a b c d e f g h",
    ],
)
def test_garbage_is_a_parse_error(line: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/udp"):
        parse_udp(f"{HEADER}\n{line}\n", "/proc/net/udp")
