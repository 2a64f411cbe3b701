import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.infiniband import (
    InfinibandCollector,
    parse_counter,
    parse_rate,
    parse_state,
)
from storage_tree import collect, garbage_run, tree_files

IB = InfinibandCollector()
PORT = "/sys/class/infiniband/mlx4_0/ports/1"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(IB, tree_files(IB))
    info = {"device": "mlx4_0", "board_id": "SM_1141000001000", "firmware_version": "2.31.5050",
            "hca_type": "MT4099"}  # fmt: skip
    assert out.get("node_infiniband_info", info) == 1
    p1 = {"device": "mlx4_0", "port": "1"}
    assert out.get("node_infiniband_state_id", p1) == 4
    assert out.get("node_infiniband_rate_bytes_per_second", p1) == 5e9  # 40 Gb/s
    assert out.get("node_infiniband_port_data_received_bytes_total", p1) == 2221223609 * 4
    assert out.get("node_infiniband_legacy_data_transmitted_bytes_total", p1) == 17 * 4
    assert out.get("node_infiniband_multicast_packets_received_total", p1) is None  # N/A
    assert out.get("node_infiniband_link_downed_total", {"device": "hfi1_0", "port": "1"}) == 3
    assert out.get("node_infiniband_rate_bytes_per_second", {"device": "hfi1_0", "port": "1"}) == (
        12.5e9
    )


def test_missing_attributes_are_no_data_as_node_exporter() -> None:
    with pytest.raises(NoData):
        collect(IB, {})
    files = tree_files(IB)
    del files["/sys/class/infiniband/mlx4_0/hca_type"]  # optional
    assert (
        collect(IB, files).get(
            "node_infiniband_info",
            {
                "device": "mlx4_0",
                "board_id": "SM_1141000001000",
                "firmware_version": "2.31.5050",
                "hca_type": "",
            },
        )
        == 1
    )
    del files["/sys/class/infiniband/mlx4_0/board_id"]  # not optional
    with pytest.raises(NoData, match="board_id"):
        collect(IB, files)
    files = tree_files(IB)
    del files[f"{PORT}/rate"]
    with pytest.raises(NoData, match="rate"):
        collect(IB, files)


@pytest.mark.parametrize("text", ["4 ACTIVE", "x: ACTIVE", "4: A: B", "4294967296: X"])
def test_garbage_state_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_state(text, "state")


def test_rate_and_counters() -> None:
    assert parse_rate("2.5 Gb/sec (1X SDR)\n", "rate") == 312500000
    with pytest.raises(ParseError):
        parse_rate("fast", "rate")
    assert parse_counter("0x10\n", "c", 4) == 64
    assert parse_counter("N/A (no PMA)\n", "c", 1) is None
    with pytest.raises(ParseError):
        parse_counter("-1\n", "c", 1)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_parsers_raise_only_parse_errors(text: str) -> None:
    for parse in (parse_state, parse_rate, lambda t, s: parse_counter(t, s, 4)):
        with contextlib.suppress(ParseError):
            parse(text, "x")


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(IB, data)
