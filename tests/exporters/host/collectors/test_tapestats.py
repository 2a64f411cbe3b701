import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.tapestats import TapestatsCollector
from storage_tree import collect, garbage_run, tree_files

TAPE = TapestatsCollector()
TAPES = "/sys/class/scsi_tape"


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(TAPE, tree_files(TAPE))
    st0 = {"device": "st0"}
    assert out.get("node_tape_io_now", st0) == 1
    assert out.get("node_tape_io_time_seconds_total", st0) == 9247011087720 * 0.000000001
    assert out.get("node_tape_written_bytes_total", st0) == 1496246784000
    assert out.get("node_tape_residual_total", st0) == 19
    # the nst0 / st0a aliases of the drive are not devices of their own
    assert {labels["device"] for labels, _ in out.samples("node_tape_io_now")} == {"st0", "st1"}


def test_absent_class_is_no_data_and_garbage_an_error() -> None:
    with pytest.raises(NoData):
        collect(TAPE, {})
    files = {p: t for p, t in tree_files(TAPE).items() if not p.startswith(f"{TAPES}/st1/")}
    with pytest.raises(NoData, match="st1"):  # its directory without stats/
        collect(TAPE, files)
    files = tree_files(TAPE)
    files["/sys/class/scsi_tape/st1/stats/write_ns"] = "soon\n"
    with pytest.raises(ParseError, match="write_ns"):
        collect(TAPE, files)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(TAPE, data)
