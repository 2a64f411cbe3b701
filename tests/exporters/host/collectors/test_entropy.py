import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.entropy import EntropyCollector, parse_bits
from fleetwatch.exporters.host.snapshot import Snapshot

AVAIL = "/proc/sys/kernel/random/entropy_avail"
POOL = "/proc/sys/kernel/random/poolsize"
FILES = {p: (FIXTURES / p.removeprefix("/proc/")).read_text() for p in (AVAIL, POOL)}


def test_collect_real_files() -> None:
    out = Families()
    EntropyCollector().collect(Snapshot(files=FILES), out, Options())
    assert out.get("node_entropy_available_bits") == 256
    assert out.get("node_entropy_pool_size_bits") == 256


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="poolsize: not readable"):
        EntropyCollector().collect(Snapshot(files={AVAIL: "256\n"}), Families(), Options())


@pytest.mark.parametrize("text", ["", "abc\n", "1 2\n", "\x00\xff"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="entropy_avail"):
        parse_bits(text, AVAIL)
