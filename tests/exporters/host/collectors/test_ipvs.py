import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors.base import NoData
from fleetwatch.exporters.host.collectors.ipvs import (
    IpvsCollector,
    parse_ipvs_backends,
    parse_ipvs_stats,
)
from storage_tree import collect, garbage_run, tree_files

IPVS = IpvsCollector()


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(IPVS, tree_files(IPVS))
    assert out.get("node_ipvs_connections_total") == 0x16AA370
    assert out.get("node_ipvs_incoming_bytes_total") == 0x51D8C8883AB3
    tcp = {"local_address": "192.168.0.22", "local_port": "3306", "remote_address": "192.168.82.22",
           "remote_port": "3306", "proto": "TCP", "local_mark": ""}  # fmt: skip
    assert out.get("node_ipvs_backend_connections_active", tcp) == 248
    fwm = {"local_address": "", "local_port": "0", "remote_address": "192.168.50.26",
           "remote_port": "3306", "proto": "FWM", "local_mark": "10001000"}  # fmt: skip
    assert out.get("node_ipvs_backend_connections_inactive", fwm) == 5
    v6 = {"local_address": "2620::1", "local_port": "53", "remote_address": "2620::2",
          "remote_port": "53", "proto": "UDP", "local_mark": ""}  # fmt: skip
    assert out.get("node_ipvs_backend_weight", v6) == 1
    assert len(out.samples("node_ipvs_backend_weight")) == 11


def test_equal_backends_are_summed() -> None:
    line = "  -> C0A85216:0CEA      Tunnel  100    248        2\n"
    sums = parse_ipvs_backends("TCP  C0A80016:0CEA wlc\n" + line + line)
    assert list(sums.values()) == [[496, 4, 200]]


def test_absent_stats_are_no_data_but_absent_backends_an_error() -> None:
    with pytest.raises(NoData):
        collect(IPVS, {})
    files = tree_files(IPVS)
    del files["/proc/net/ip_vs"]
    with pytest.raises(ParseError, match="ip_vs"):
        collect(IPVS, files)


@pytest.mark.parametrize("text", ["x\ny\n", "a\nb\n1 2 3 4\n", "a\nb\n1 2 3 4 zz\n"])
def test_garbage_stats_are_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ipvs_stats(text)


@pytest.mark.parametrize(
    "text",
    ["TCP C0A8:0CEA wlc\n", "TCP  C0A80016:0CEA\n  -> C0A85216:0CEA Tunnel x 1 2\n", "X\n",
     "UDP [2620:0000:0000:0000:0000:0000:0000:zz01]:0035 rr\n"],
)  # fmt: skip
def test_garbage_backends_are_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ipvs_backends(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parsers_raise_only_parse_errors(text: str) -> None:
    for parse in (parse_ipvs_stats, parse_ipvs_backends):
        with contextlib.suppress(ParseError):
            parse(text)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_tree_raises_only_parse_errors(data: st.DataObject) -> None:
    garbage_run(IPVS, data)
