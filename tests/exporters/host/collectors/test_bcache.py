import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.bcache import (
    BcacheCollector,
    dehumanize,
    dehumanize_signed,
    parse_writeback_rate_debug,
)
from storage_tree import collect, garbage_run, tree_files

BCACHE = BcacheCollector()
UUID = "deaddd54-c735-46d5-868e-f331c5fd7c74"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(BCACHE, tree_files(BCACHE))
    assert out.get("node_bcache_cache_available_percent", {"uuid": UUID}) == 100
    assert out.get("node_bcache_btree_read_average_duration_seconds", {"uuid": UUID}) == 1305e-9
    bdev = {"uuid": UUID, "backing_device": "bdev0"}
    assert out.get("node_bcache_dirty_data_bytes", bdev) == 1867776  # "1.8M"
    assert out.get("node_bcache_bypassed_bytes_total", bdev) == 4911104  # "4.7M"
    assert out.get("node_bcache_dirty_target_bytes", bdev) == 21894266880
    assert out.get("node_bcache_writeback_change", bdev) == 329204
    cache = {"uuid": UUID, "cache_device": "cache0"}
    assert out.get("node_bcache_metadata_written_bytes_total", cache) == 512


def test_bch_hprint_numbers() -> None:
    assert dehumanize("512", "x") == 512
    assert dehumanize("1.10k", "x") == int((1 + 10 / 10.24) * 1024)
    assert dehumanize("3Q", "x") == 0  # an unknown unit multiplies by 0, as procfs
    assert dehumanize_signed("-2.0k", "x") == -2048
    assert parse_writeback_rate_debug("change:\t-1.5k/sec\nnext io:\t-3ms\n", "x")["change"] == (
        -int((1 + 5 / 10.24) * 1024)
    )


def test_no_bcache_is_nothing_and_a_missing_attribute_zero() -> None:
    assert len(collect(BCACHE, {})) == 0
    files = tree_files(BCACHE)
    del files[f"/sys/fs/bcache/{UUID}/cache_available_percent"]
    assert collect(BCACHE, files).get("node_bcache_cache_available_percent", {"uuid": UUID}) == 0
    files[f"/sys/fs/bcache/{UUID}/tree_depth"] = ""  # node_exporter 1.5 panics on this one
    with pytest.raises(ParseError, match="tree_depth"):
        collect(BCACHE, files)
    files = tree_files(BCACHE)
    del files[f"/sys/fs/bcache/{UUID}/bdev0/writeback_rate_debug"]
    with pytest.raises(ParseError, match="writeback_rate_debug"):
        collect(BCACHE, files)


@pytest.mark.parametrize("text", ["", "-1", "1.x", "abc", "1e999M"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        dehumanize(text, "x")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_parsers_raise_only_parse_errors(text: str) -> None:
    for parse in (dehumanize, dehumanize_signed, parse_writeback_rate_debug):
        with contextlib.suppress(ParseError):
            parse(text, "x")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(BCACHE, data)
