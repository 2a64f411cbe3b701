import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.bonding import BondingCollector
from storage_tree import collect, garbage_run, tree_files

BONDING = BondingCollector()
NET = "/sys/class/net"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(BONDING, tree_files(BONDING))
    got = {
        m: (
            out.get("node_bonding_slaves", {"master": m}),
            out.get("node_bonding_active", {"master": m}),
        )
        for m in ("bond0", "dmz", "int")
    }
    # bond0: one slave down; dmz: the older slave_<if> layout; int: no slaves
    assert got == {"bond0": (2, 1), "dmz": (2, 2), "int": (0, 0)}


def test_missing_files_are_no_data_as_node_exporter() -> None:
    with pytest.raises(NoData):
        collect(BONDING, {})
    files = tree_files(BONDING)
    del files[f"{NET}/eth4/bonding_slave/mii_status"]
    with pytest.raises(NoData, match="eth4"):
        collect(BONDING, files)
    assert len(collect(BONDING, {f"{NET}/bonding_masters": "\n"})) == 0


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(BONDING, data)
