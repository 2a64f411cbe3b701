import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.zfs import (
    ZfsCollector,
    parse_kstat,
    parse_objset,
    parse_pool_io,
)
from storage_tree import collect, garbage_run, tree_files

ZFS = ZfsCollector()
BASE = "/proc/spl/kstat/zfs"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(ZFS, tree_files(ZFS))
    assert out.get("node_zfs_arc_size") == 1603939792
    assert out.get("node_zfs_arc_c_max") == 8367976448
    assert out.get("node_zfs_arc_mfu_ghost_hits") == 821  # "-" becomes "_"
    assert out.get("node_zfs_arc_memory_available_bytes") is None  # type 3: not exported
    assert out.get("node_zfs_fm_erpt_dropped") == 18
    assert out.get("node_zfs_dmu_tx_dmu_tx_assigned") == 3532844
    assert out.get("node_zfs_zpool_nread", {"zpool": "pool1"}) == 1884160
    assert out.get("node_zfs_zpool_rupdate", {"zpool": "pool1"}) == 79210489849220
    dataset = {"zpool": "pool1", "dataset": "pool1/dataset1"}
    assert out.get("node_zfs_zpool_dataset_nwritten", dataset) == 12302
    assert out.get("node_zfs_zpool_state", {"zpool": "poolz1", "state": "degraded"}) == 1
    assert out.get("node_zfs_zpool_state", {"zpool": "pool1", "state": "online"}) == 1
    # node_exporter 1.5 knows no "suspended": such a pool has every state 0
    assert [v for _, v in out.samples("node_zfs_zpool_state") if _["zpool"] == "pool2"] == [0] * 6
    spec = ZFS.specs[0]
    assert (spec.name, spec.type, spec.help) == (
        "node_zfs_arc_hits", "untyped", "kstat.zfs.misc.arcstats.hits",
    )  # fmt: skip


def test_no_kstat_directory_is_no_data() -> None:
    with pytest.raises(NoData):
        collect(ZFS, {})
    out = collect(ZFS, {BASE: ""})  # module loaded, no pools, no kstat files yet
    assert len(out) == 0


def test_a_truncated_kstat_is_a_parse_error_naming_the_file() -> None:
    files = tree_files(ZFS)
    files[f"{BASE}/arcstats"] = files[f"{BASE}/arcstats"].split("\n", 1)[0] + "\n"
    with pytest.raises(ParseError, match="arcstats"):
        collect(ZFS, files)


@pytest.mark.parametrize(
    "text",
    [
        "1 2\nname type data\nhits 4 -1\n",
        "1 2\nname type data\nhits 4 18446744073709551616\n",
        "1 2\nname type data\nbad.na:me 4 1\n",
    ],
)
def test_garbage_kstat_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_kstat(text, "arcstats")


def test_pool_io_and_objset_edge_cases() -> None:
    assert parse_pool_io("no header here\n", "io") == {}
    with pytest.raises(ParseError):
        parse_pool_io(" ".join(["nread"] + ["x"] * 11) + "\n1 2\n", "io")
    with pytest.raises(ParseError, match="objset"):
        parse_objset("dataset_name 7 pool1\n", "objset-1", "pool1")
    # counters before the dataset_name line carry no names, as in node_exporter
    rows = parse_objset("name type data\nreads 4 1\ndataset_name 7 p/d\nwrites 4 2\n", "o", "p")
    assert rows == [("", "", "reads", 1), ("p", "p/d", "writes", 2)]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_kstat_parsers_raise_only_parse_errors(text: str) -> None:
    for parse in (parse_kstat, parse_pool_io):
        with contextlib.suppress(ParseError):
            parse(text, "kstat")
    with contextlib.suppress(ParseError):
        parse_objset(text, "objset-1", "pool")


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(ZFS, data)
