import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.xfs import XfsCollector, parse_xfs_stat
from storage_tree import TREE, collect, garbage_run, tree_files

XFS = XfsCollector()


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(XFS, tree_files(XFS))
    sda = {"device": "sda1"}
    assert out.get("node_xfs_extent_allocation_extents_allocated_total", sda) == 92447
    assert out.get("node_xfs_block_mapping_reads_total", sda) == 1767055
    assert out.get("node_xfs_read_calls_total", sda) == 94045  # rw is "<writes> <reads>"
    assert out.get("node_xfs_write_calls_total", sda) == 107739
    assert out.get("node_xfs_inode_operation_attribute_changes_total", sda) == 22
    assert out.get("node_xfs_vnode_remove_total", {"device": "sdb1"}) == 6  # 7-value vnodes
    assert {labels["device"] for labels, _ in out.samples("node_xfs_read_calls_total")} == {
        "sda1",
        "sdb1",
    }  # fmt: skip  (the global /sys/fs/xfs/stats/stats is no device)
    assert len(out) == 2 * 39


def test_no_xfs_is_nothing() -> None:
    assert len(collect(XFS, {})) == 0


@pytest.mark.parametrize(
    "text",
    ["rw 1\n", "vnodes 1 2 3\n", "abt 1 2 3 4294967296\n", "buf x 1 2 3 4 5 6 7 8\n",
     "xpc 1 2\n", "dir -1 2 3 4\n"],
)  # fmt: skip
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="stats"):
        parse_xfs_stat(text, "/sys/fs/xfs/sda1/stats/stats")


def test_the_global_stat_file_parses_alike() -> None:
    text = (TREE / "proc/fs/xfs/stat").read_text()
    assert parse_xfs_stat(text, "/proc/fs/xfs/stat")["xpc"] == [399724544, 92823103, 86219234]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_xfs_stat(text, "stats")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(XFS, data)
