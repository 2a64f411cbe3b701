import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.nfs import NfsCollector, parse_nfs
from storage_tree import collect, garbage_run, tree_files

NFS = NfsCollector()


def requests(out: Families, proto: str) -> dict[str, float]:
    samples = out.samples("node_nfs_requests_total")
    return {labels["method"]: v for labels, v in samples if labels["proto"] == proto}


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(NFS, tree_files(NFS))
    assert out.get("node_nfs_packets_total", {"protocol": "udp"}) == 70
    assert out.get("node_nfs_packets_total", {"protocol": "tcp"}) == 69
    assert out.get("node_nfs_connections_total") == 45
    assert out.get("node_nfs_rpcs_total") == 1218785755
    assert out.get("node_nfs_rpc_retransmissions_total") == 374636
    assert out.get("node_nfs_rpc_authentication_refreshes_total") == 1218815394
    v3 = requests(out, "3")
    assert len(v3) == 22 and v3["GetAttr"] == 1061909262 and v3["Null"] == 0
    v4 = requests(out, "4")
    assert len(v4) == 59  # 48 values on this kernel: the rest are 0
    assert (v4["Null"], v4["LayoutGet"], v4["GetDeviceInfo"], v4["LayoutReturn"]) == (
        98,
        90,
        1,
        1337,
    )
    assert v4["Clone"] == 0
    assert len(requests(out, "2")) == 18


def test_missing_lines_are_zero_and_no_file_is_no_data() -> None:
    stats = parse_nfs("rpc 1 2 3\n")
    assert stats["net"] == {"udp": 0, "tcp": 0, "connections": 0}
    assert stats["3"]["Read"] == 0
    with pytest.raises(NoData):
        collect(NFS, {})


@pytest.mark.parametrize(
    "text",
    ["net 1 2 3\n", "rpc x 1 2\n", "proc3 3 1 2\n", "proc3 2 1 2\n", "proc2 1 1\n",
     "bogus 1 2\n", "net\n", "proc4\n"],
)  # fmt: skip
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/net/rpc/nfs"):
        parse_nfs(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_nfs(text)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(NFS, data)
