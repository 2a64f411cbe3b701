import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.sockstat import (
    SockstatCollector,
    parse_page_size,
    parse_sockstat,
)
from fleetwatch.exporters.host.snapshot import Snapshot

FILES = {f"/proc/net/{n}": (FIXTURES / "net" / n).read_text() for n in ("sockstat", "sockstat6")}


def collect(files: dict[str, str], commands: dict[str, str] | None = None) -> Families:
    out = Families()
    SockstatCollector().collect(Snapshot(files=files, commands=commands or {}), out, Options())
    return out


def test_collect_real_files() -> None:
    out = collect(FILES, {"sockstat_pagesize": "4096\n"})
    assert out.get("node_sockstat_sockets_used") == 14
    assert out.get("node_sockstat_TCP_inuse") == 2
    assert out.get("node_sockstat_TCP_alloc") == 2
    assert out.get("node_sockstat_TCP_mem") == 170
    assert out.get("node_sockstat_TCP_mem_bytes") == 170 * 4096
    assert out.get("node_sockstat_UDP_mem_bytes") == 0
    assert out.get("node_sockstat_FRAG_memory") == 0
    assert out.get("node_sockstat_TCP6_inuse") == 0
    assert out.get("node_sockstat_FRAG6_memory") == 0
    # sockstat6 has no mem column, and UDPLITE no mem either
    assert out.get("node_sockstat_TCP6_mem_bytes") is None
    assert out.get("node_sockstat_UDPLITE_mem_bytes") is None
    assert len(out) == 20
    metrics = {m.name: m for m in out.collect()}
    assert metrics["node_sockstat_TCP_tw"].documentation == "Number of TCP sockets in state tw."


def test_page_size_from_the_host() -> None:
    out = collect(FILES, {"sockstat_pagesize": "65536\n"})
    assert out.get("node_sockstat_TCP_mem_bytes") == 170 * 65536


@pytest.mark.parametrize("output", [None, "", "getconf: not found\n", "0\n", "-4096\n"])
def test_page_size_defaults_to_4096(output: str | None) -> None:
    assert parse_page_size(output) == 4096


def test_absent_files_give_no_samples() -> None:
    assert len(collect({})) == 0
    out = collect({"/proc/net/sockstat6": FILES["/proc/net/sockstat6"]})
    assert out.get("node_sockstat_sockets_used") is None
    assert out.get("node_sockstat_UDP6_inuse") == 0


def test_unknown_keys_are_ignored_and_inuse_defaults_to_zero() -> None:
    # edge case: a protocol line with only keys procfs does not know
    stat = parse_sockstat("MPTCP: weird 5\n")
    assert stat.protocols == {"MPTCP": {"inuse": 0}}


@pytest.mark.parametrize(
    "text", ["TCP:\n", "TCP: inuse\n", "TCP: inuse x\n", "TCP inuse 1\n", "\x00\xff\x01\n"]
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/sockstat"):
        parse_sockstat(text)
