import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.conntrack import (
    ConntrackCollector,
    parse_conntrack_stat,
)
from fleetwatch.exporters.host.snapshot import Snapshot

COUNT = "/proc/sys/net/netfilter/nf_conntrack_count"
MAX = "/proc/sys/net/netfilter/nf_conntrack_max"
STAT = "/proc/net/stat/nf_conntrack"
FILES = {p: (FIXTURES / p.removeprefix("/proc/")).read_text() for p in (COUNT, MAX, STAT)}
HEADER = FILES[STAT].splitlines()[0]


def collect(files: dict[str, str]) -> Families:
    out = Families()
    ConntrackCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_collect_real_files() -> None:
    out = collect(FILES)
    assert out.get("node_nf_conntrack_entries") == 0
    assert out.get("node_nf_conntrack_entries_limit") == 262144
    assert out.get("node_nf_conntrack_stat_found") == 0
    assert out.get("node_nf_conntrack_stat_search_restart") == 0
    assert len(out) == 10


def test_stat_columns_are_summed_over_cpus() -> None:
    # edge case: two made-up per-CPU lines with distinct hex values per column
    line0 = " ".join(f"{i:08x}" for i in range(17))
    line1 = " ".join(f"{0x10 * i:08x}" for i in range(17))
    out = collect({**FILES, STAT: f"{HEADER}\n{line0}\n{line1}\n"})
    assert out.get("node_nf_conntrack_stat_found") == 2 + 0x20
    assert out.get("node_nf_conntrack_stat_invalid") == 4 + 0x40
    assert out.get("node_nf_conntrack_stat_ignore") == 5 + 0x50
    assert out.get("node_nf_conntrack_stat_insert") == 8 + 0x80
    assert out.get("node_nf_conntrack_stat_insert_failed") == 9 + 0x90
    assert out.get("node_nf_conntrack_stat_drop") == 10 + 0xA0
    assert out.get("node_nf_conntrack_stat_early_drop") == 11 + 0xB0
    assert out.get("node_nf_conntrack_stat_search_restart") == 16 + 0x100


def test_old_kernel_without_search_restart() -> None:
    line = " ".join(["00000001"] * 16)
    assert parse_conntrack_stat(f"{HEADER}\n{line}\n")[16] == 0


def test_module_not_loaded_means_no_samples() -> None:
    assert len(collect({})) == 0
    out = collect({COUNT: FILES[COUNT], MAX: FILES[MAX]})
    assert out.names() == {"node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"}


@pytest.mark.parametrize("text", ["", "x\n", "-1\n", "\x00\xff"])
def test_garbage_count_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="nf_conntrack_count"):
        collect({**FILES, COUNT: text})


@pytest.mark.parametrize(
    "line", ["00000000 00000000", " ".join(["zz"] * 17), " ".join(["0"] * 18), "\x00\xff"]
)
def test_garbage_stat_is_a_parse_error(line: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/stat/nf_conntrack"):
        parse_conntrack_stat(f"{HEADER}\n{line}\n")
