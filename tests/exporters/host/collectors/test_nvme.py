import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.nvme import NvmeCollector
from storage_tree import collect, garbage_run, tree_files

NVME = NvmeCollector()


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(NVME, tree_files(NVME))
    got = sorted(tuple(sorted(labels.items())) for labels, _ in out.samples("node_nvme_info"))
    assert got[1] == (
        ("device", "nvme1"),
        ("firmware_revision", "GPJA0B3Q"),
        ("model", "KXG60ZNV256G TOSHIBA"),
        ("serial", "Y9PS1052T0SM"),
        ("state", "resetting"),
    )  # fmt: skip  (values trimmed)
    assert len(got) == 2


def test_absent_class_or_attribute_is_no_data() -> None:
    with pytest.raises(NoData):
        collect(NVME, {})
    assert len(collect(NVME, {"/sys/class/nvme": ""})) == 0
    files = tree_files(NVME)
    assert not any(p.endswith("/cntlid") for p in files)  # not read by node_exporter 1.5
    del files["/sys/class/nvme/nvme0/serial"]
    with pytest.raises(NoData, match="serial"):
        collect(NVME, files)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(NVME, data)
