import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData, Options
from fleetwatch.exporters.host.collectors.rapl import RaplCollector, zone_index
from storage_tree import collect, garbage_run, tree_files

RAPL = RaplCollector()
CAP = "/sys/class/powercap"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(RAPL, tree_files(RAPL))
    pkg = {"index": "1", "path": f"{CAP}/intel-rapl:1"}
    assert out.get("node_rapl_package_joules_total", pkg) == 240422.366268
    assert out.get(
        "node_rapl_core_joules_total", {"index": "0", "path": f"{CAP}/intel-rapl:0:0"}
    ) == (118821.284256)
    # a repeated name without a number is indexed by its count
    dram = {
        labels["path"]: labels["index"] for labels, _ in out.samples("node_rapl_dram_joules_total")
    }
    assert dram == {f"{CAP}/intel-rapl:a": "0", f"{CAP}/intel-rapl:b": "1"}


def test_path_follows_the_sysfs_option() -> None:
    out = collect(RAPL, tree_files(RAPL), Options(sysfs="/host/sys"))
    paths = {labels["path"] for labels, _ in out.samples("node_rapl_package_joules_total")}
    assert "/host/sys/class/powercap/intel-rapl:0" in paths


def test_unreadable_energy_or_no_class_is_no_data() -> None:
    with pytest.raises(NoData):
        collect(RAPL, {})
    files = tree_files(RAPL)
    del files[f"{CAP}/intel-rapl:0/energy_uj"]  # root-only since Linux 5.10
    with pytest.raises(NoData, match="energy_uj"):
        collect(RAPL, files)
    files = tree_files(RAPL)
    files[f"{CAP}/intel-rapl:0/energy_uj"] = "lots\n"
    with pytest.raises(ParseError, match="energy_uj"):
        collect(RAPL, files)


def test_zone_index() -> None:
    assert zone_index("package-3", {}) == (3, "package")
    assert zone_index("psys", {"psys": 2}) == (2, "psys")
    assert zone_index("a-b-1", {}) == (0, "a-b-1")


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(RAPL, data)


def test_a_zone_name_is_sanitized_as_node_exporter_does() -> None:
    files = tree_files(RAPL)
    files[f"{CAP}/intel-rapl:1/name"] = "N/A (no PMA)\n"
    out = collect(RAPL, files)
    assert out.get(
        "node_rapl_N_A_no_PMA__joules_total", {"index": "0", "path": f"{CAP}/intel-rapl:1"}
    ) == (240422.366268)
