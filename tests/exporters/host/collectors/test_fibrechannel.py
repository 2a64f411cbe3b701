import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.fibrechannel import FibrechannelCollector
from storage_tree import collect, garbage_run, tree_files

FC = FibrechannelCollector()
HOST = "/sys/class/fc_host/host0"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(FC, tree_files(FC))
    [(info, value)] = out.samples("node_fibrechannel_info")
    assert value == 1
    assert (info["port_name"], info["fabric_name"], info["port_id"]) == (
        "100e0071bce95f2",
        "0",
        "000002",
    )  # fmt: skip  ("0x" cut, as procfs does)
    assert info["speed"] == "16 Gbit" and "node_name" not in info
    host = {"fc_host": "host0"}
    assert out.get("node_fibrechannel_fcp_packet_aborts_total", host) == 0x13
    assert out.get("node_fibrechannel_loss_of_signal_total", host) == 0x11
    # 0xffffffffffffffff: not implemented by the firmware, not exported
    assert out.get("node_fibrechannel_dumped_frames_total", host) is None


def test_absent_class_is_no_data_and_a_missing_attribute_an_error() -> None:
    with pytest.raises(NoData):
        collect(FC, {})
    files = tree_files(FC)
    del files[f"{HOST}/port_type"]
    with pytest.raises(ParseError, match="port_type"):
        collect(FC, files)
    files = tree_files(FC)
    files[f"{HOST}/statistics/rx_frames"] = "0xzz\n"
    with pytest.raises(ParseError, match="rx_frames"):
        collect(FC, files)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(FC, data)
