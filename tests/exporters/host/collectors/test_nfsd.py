import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.nfsd import NfsdCollector, parse_nfsd
from storage_tree import collect, garbage_run, tree_files

NFSD = NfsdCollector()


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(NFSD, tree_files(NFSD))
    assert out.get("node_nfsd_reply_cache_nocache_total") == 18622
    assert out.get("node_nfsd_disk_bytes_read_total") == 157286400
    assert out.get("node_nfsd_server_threads") == 8  # th's float histogram ignored
    assert out.get("node_nfsd_read_ahead_cache_size_blocks") == 32
    assert out.get("node_nfsd_packets_total", {"proto": "tcp"}) == 18628
    assert out.get("node_nfsd_rpc_errors_total", {"error": "fmt"}) == 1
    assert out.get("node_nfsd_rpc_errors_total", {"error": "auth"}) == 2
    assert out.get("node_nfsd_server_rpcs_total") == 18628
    samples = out.samples("node_nfsd_requests_total")
    req = {(labels["proto"], labels["method"]): v for labels, v in samples}
    assert req[("2", "GetAttr")] == 202 and ("2", "Null") not in req
    assert req[("3", "Commit")] == 322
    # procfs 0.8's proc4ops mapping: Verify, Write, RelLockOwner are values 36-38
    assert (req[("4", "Access")], req[("4", "Verify")], req[("4", "RelLockOwner")]) == (
        1004, 1036, 1038,
    )  # fmt: skip
    assert len(req) == 17 + 21 + 33


def test_no_file_is_no_data() -> None:
    with pytest.raises(NoData):
        collect(NFSD, {})


@pytest.mark.parametrize(
    "text",
    ["th 8\n", "rc 1 2\n", "proc4ops 3 1 2 3\n", "proc4ops 40 1\n", "fh 1 2 3 4 x\n", "zz 1\n"],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="nfsd"):
        parse_nfsd(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_nfsd(text)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(NFSD, data)
