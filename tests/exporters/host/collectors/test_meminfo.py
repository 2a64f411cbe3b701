import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.meminfo import MeminfoCollector, parse_meminfo
from fleetwatch.exporters.host.snapshot import Snapshot

MEMINFO = (FIXTURES / "meminfo").read_text()


def test_parse_real_meminfo_names_and_units() -> None:
    fields = parse_meminfo(MEMINFO)
    assert fields["MemTotal_bytes"] == 24683656 * 1024
    assert fields["Active_anon_bytes"] == 1540 * 1024
    assert fields["Hugepagesize_bytes"] == 2048 * 1024
    assert fields["HugePages_Total"] == 0
    assert len(fields) == len(MEMINFO.splitlines())


def test_collect_emits_every_field_as_gauge() -> None:
    out = Families()
    MeminfoCollector().collect(Snapshot(files={"/proc/meminfo": MEMINFO}), out, Options())
    assert out.get("node_memory_MemFree_bytes") == 24340448 * 1024
    assert out.get("node_memory_Buffers_bytes") == 2304 * 1024
    assert len(out) == len(MEMINFO.splitlines())
    metrics = {m.name: m for m in out.collect()}
    assert metrics["node_memory_MemTotal_bytes"].type == "gauge"
    assert metrics["node_memory_MemTotal_bytes"].documentation == (
        "Memory information field MemTotal_bytes."
    )


def test_unknown_field_still_exposed() -> None:
    # edge case: a field no known kernel has
    out = Families()
    snap = Snapshot(files={"/proc/meminfo": "Foo(bar):   3 kB\nBaz:  7\n\n"})
    MeminfoCollector().collect(snap, out, Options())
    assert out.get("node_memory_Foo_bar_bytes") == 3072
    assert out.get("node_memory_Baz") == 7


@pytest.mark.parametrize(
    "text",
    [
        "",
        "MemTotal: x kB\n",
        "MemTotal: 1 kB extra\n",
        "MemTotal 1\n",
        "Mem-Total: 1\n",
        "\xff\x00",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/meminfo"):
        parse_meminfo(text)
