import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.netclass import NetclassCollector
from fleetwatch.exporters.host.snapshot import Snapshot


def sys_net() -> dict[str, str]:
    base = FIXTURES / "sys/class/net"
    return {
        f"/sys/class/net/{p.relative_to(base)}": p.read_text()
        for p in sorted(base.rglob("*"))
        if p.is_file() and "statistics" not in p.parts
    }


def collect(files: dict[str, str]) -> Families:
    out = Families()
    NetclassCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(sys_net())
    eth0, lo, ifb0 = {"device": "eth0"}, {"device": "lo"}, {"device": "ifb0"}
    assert out.get("node_network_up", eth0) == 1
    assert out.get("node_network_up", lo) == 0  # operstate "unknown"
    assert out.get("node_network_flags", eth0) == 4099  # sysfs prints 0x1003
    assert out.get("node_network_mtu_bytes", lo) == 65536
    assert out.get("node_network_speed_bytes", eth0) == -125000  # speed -1
    assert out.get("node_network_speed_bytes", lo) is None
    assert out.get("node_network_carrier", ifb0) is None
    assert out.get("node_network_carrier_changes_total", eth0) == 2
    assert out.get("node_network_carrier_up_changes_total", eth0) == 1
    assert out.get("node_network_iface_id", eth0) == 4
    assert out.get("node_network_protocol_type", lo) == 772
    assert out.get("node_network_transmit_queue_length", ifb0) == 32
    assert out.get("node_network_address_assign_type", ifb0) == 1
    assert out.get("node_network_name_assign_type", ifb0) is None
    info = {
        "device": "eth0", "address": "02:fc:00:00:00:01", "broadcast": "ff:ff:ff:ff:ff:ff",
        "duplex": "unknown", "operstate": "up", "ifalias": "",
    }  # fmt: skip
    assert out.get("node_network_info", info) == 1
    lo_info = {
        "device": "lo", "address": "00:00:00:00:00:00", "broadcast": "00:00:00:00:00:00",
        "duplex": "", "operstate": "unknown", "ifalias": "",
    }  # fmt: skip
    assert out.get("node_network_info", lo_info) == 1


def test_unreadable_attribute_read_by_head_is_absent() -> None:
    # head prints an empty body for speed of a link that is down (EINVAL)
    files = sys_net() | {"/sys/class/net/ifb0/speed": "", "/sys/class/net/ifb0/carrier": ""}
    out = collect(files)
    assert out.get("node_network_speed_bytes", {"device": "ifb0"}) is None
    assert out.get("node_network_carrier", {"device": "ifb0"}) is None


@pytest.mark.parametrize("value", ["fast\n", "1.5\n", "0x\n", "99999999999999999999\n"])
def test_garbage_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="/sys/class/net/eth0/mtu"):
        collect(sys_net() | {"/sys/class/net/eth0/mtu": value})
