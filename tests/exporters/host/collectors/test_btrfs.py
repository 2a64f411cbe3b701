import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.btrfs import BtrfsCollector, parse_btrfs, ratio
from storage_tree import collect, garbage_run, tree_files

BTRFS = BtrfsCollector()
FS1 = "0abb23a9-579b-43e6-ad30-227ef47fcb9d"
FS2 = "7f07c59f-6136-449c-ab87-e1cf2328731b"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(BTRFS, tree_files(BTRFS))
    assert out.get("node_btrfs_info", {"uuid": FS1, "label": "fixture"}) == 1
    assert out.get("node_btrfs_info", {"uuid": FS2, "label": ""}) == 1
    assert out.get("node_btrfs_global_rsv_size_bytes", {"uuid": FS1}) == 16777216
    data = {"uuid": FS1, "block_group_type": "data", "mode": "raid0"}
    assert out.get("node_btrfs_used_bytes", data) == 808189952
    assert out.get("node_btrfs_size_bytes", data) == 2147483648
    raid5 = {"uuid": FS2, "block_group_type": "metadata", "mode": "raid5"}
    assert out.get("node_btrfs_allocation_ratio", raid5) == 4 / 3  # 4 devices
    assert out.get("node_btrfs_device_size_bytes", {"uuid": FS1, "device": "loop25"}) == (
        20971520 * 512
    )
    assert len(out.samples("node_btrfs_device_size_bytes")) == 6


def test_no_btrfs_is_nothing_and_go_division() -> None:
    assert len(collect(BTRFS, {})) == 0
    assert ratio("raid5", 1) == math.inf == ratio("raid6", 2)  # Go's x/0, not an exception
    assert ratio("raid1c3", 3) == 0.0
    assert ratio("raid6", 1) == -1.0 and str(ratio("raid5", 0)) == "0.0"  # -0 prints as 0


def test_unparsable_numbers_are_zero_but_a_missing_directory_an_error() -> None:
    files = {"allocation/data": "", "allocation/metadata": "", "allocation/system": "",
             "allocation/global_rsv_size": "lots\n"}  # fmt: skip
    assert parse_btrfs("a-b", files).global_rsv_size == 0
    files.update({"devices": "", "features": "", "allocation/global_rsv_size": "7\n"})
    assert parse_btrfs("a-b", files).global_rsv_size == 7
    del files["features"]  # procfs's pending error zeroes the global reserve
    assert parse_btrfs("a-b", files).global_rsv_size == 0
    del files["allocation/data"]  # procfs forgets this one's error
    assert parse_btrfs("a-b", files).layouts["data"] == {}
    del files["allocation/system"]
    with pytest.raises(ParseError, match="allocation/system"):
        parse_btrfs("a-b", files)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(BTRFS, data)
