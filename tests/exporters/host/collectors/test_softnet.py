import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.softnet import SoftnetCollector, parse_softnet
from fleetwatch.exporters.host.snapshot import Snapshot

SOFTNET = (FIXTURES / "net/softnet_stat").read_text()


def test_collect_real_file() -> None:
    out = Families()
    SoftnetCollector().collect(Snapshot(files={"/proc/net/softnet_stat": SOFTNET}), out, Options())
    assert out.get("node_softnet_processed_total", {"cpu": "0"}) == 0x2C
    assert out.get("node_softnet_processed_total", {"cpu": "1"}) == 0x1848
    assert out.get("node_softnet_dropped_total", {"cpu": "1"}) == 0
    assert out.get("node_softnet_times_squeezed_total", {"cpu": "0"}) == 0
    assert len(out) == 6


def test_hex_columns() -> None:
    # edge case: made-up values in the dropped and time_squeezed columns
    line = "000000ff 0000000a ffffffff" + " 00000000" * 10
    assert parse_softnet(line + "\n") == [(255, 10, 0xFFFFFFFF)]


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="not readable"):
        SoftnetCollector().collect(Snapshot(), Families(), Options())


@pytest.mark.parametrize(
    "text",
    [
        "00000001 00000000 00000000\n",
        "0000000g" + " 00000000" * 10,
        "100000000" + " 00000000" * 10,
        "\x00\xff\x01",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/softnet_stat"):
        parse_softnet(text)
