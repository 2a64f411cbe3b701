"""infiniband: ports of /sys/class/infiniband/<device>/ports/<port>/.

    node_infiniband_info{board_id="SM_1141000001000",device="mlx4_0",firmware_version="2.31.5050",hca_type="MT4099"} 1
    node_infiniband_state_id{device="mlx4_0",port="1"} 4
    node_infiniband_port_data_received_bytes_total{device="mlx4_0",port="1"} 8.884894436e+09

As procfs 0.8 for node_exporter 1.5: a device needs fw_ver and board_id (hca_type may be
absent), a port its
state, phys_state, rate and counters directory, else the collector has no data (as
node_exporter's ErrNoData); a counter reading "N/A (no PMA)" is skipped; the data counters
count 4-byte words (times 4).  Counters of the pre-4.5 counters_ext directory are the legacy_*
families.
"""  # noqa: E501

from __future__ import annotations

import re
import struct

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import go_uint
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

IB = "/sys/class/infiniband"
DEVICE_FILES = ("fw_ver", "board_id", "hca_type")
PORT_FILES = ("state", "phys_state", "rate")
INFO = gauge(
    "node_infiniband_info",
    "Non-numeric data from /sys/class/infiniband/<device>, value is always 1.",
    "device", "board_id", "firmware_version", "hca_type",
)  # fmt: skip
STATE = gauge(
    "node_infiniband_state_id",
    "State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: act "
    "defer)",
    "device", "port",
)  # fmt: skip
PHYS_STATE = gauge(
    "node_infiniband_physical_state_id",
    "Physical state of the InfiniBand port (0: no change, 1: sleep, 2: polling, 3: disable, 4: "
    "shift, 5: link up, 6: link error recover, 7: phytest)",
    "device", "port",
)  # fmt: skip
RATE = gauge(
    "node_infiniband_rate_bytes_per_second", "Maximum signal transfer rate", "device", "port"
)


def _c(name: str, help: str) -> Spec:
    return counter(f"node_infiniband_{name}", help, "device", "port")


_ALL = "on all links"
_VL = "on all VLs"
# "<dir>/<file>" -> (family, multiplier)
COUNTERS: dict[str, tuple[Spec, int]] = {
    "counters/excessive_buffer_overrun_errors": (_c(
        "excessive_buffer_overrun_errors_total",
        "Number of times that OverrunErrors consecutive flow control update periods occurred, "
        "each having at least one overrun error."), 1),
    "counters/link_downed": (_c(
        "link_downed_total",
        "Number of times the link failed to recover from an error state and went down"), 1),
    "counters/link_error_recovery": (_c(
        "link_error_recovery_total",
        "Number of times the link successfully recovered from an error state"), 1),
    "counters/local_link_integrity_errors": (_c(
        "local_link_integrity_errors_total",
        "Number of times that the count of local physical errors exceeded the threshold "
        "specified by LocalPhyErrors."), 1),
    "counters/multicast_rcv_packets": (_c(
        "multicast_packets_received_total",
        "Number of multicast packets received (including errors)"), 1),
    "counters/multicast_xmit_packets": (_c(
        "multicast_packets_transmitted_total",
        "Number of multicast packets transmitted (including errors)"), 1),
    "counters/port_rcv_constraint_errors": (_c(
        "port_constraint_errors_received_total",
        "Number of packets received on the switch physical port that are discarded"), 1),
    "counters/port_rcv_data": (_c(
        "port_data_received_bytes_total", f"Number of data octets received {_ALL}"), 4),
    "counters/port_rcv_discards": (_c(
        "port_discards_received_total",
        "Number of inbound packets discarded by the port because the port is down or "
        "congested"), 1),
    "counters/port_rcv_errors": (_c(
        "port_errors_received_total",
        "Number of packets containing an error that were received on this port"), 1),
    "counters/port_rcv_packets": (_c(
        "port_packets_received_total",
        f"Number of packets received {_VL} by this port (including errors)"), 1),
    "counters/port_rcv_remote_physical_errors": (_c(
        "port_receive_remote_physical_errors_total",
        "Number of packets marked with the EBP (End of Bad Packet) delimiter received on the "
        "port."), 1),
    "counters/port_rcv_switch_relay_errors": (_c(
        "port_receive_switch_relay_errors_total",
        "Number of packets that could not be forwarded by the switch."), 1),
    "counters/port_xmit_constraint_errors": (_c(
        "port_constraint_errors_transmitted_total",
        "Number of packets not transmitted from the switch physical port"), 1),
    "counters/port_xmit_data": (_c(
        "port_data_transmitted_bytes_total", f"Number of data octets transmitted {_ALL}"), 4),
    "counters/port_xmit_discards": (_c(
        "port_discards_transmitted_total",
        "Number of outbound packets discarded by the port because the port is down or "
        "congested"), 1),
    "counters/port_xmit_packets": (_c(
        "port_packets_transmitted_total",
        f"Number of packets transmitted {_VL} from this port (including errors)"), 1),
    "counters/port_xmit_wait": (_c(
        "port_transmit_wait_total",
        "Number of ticks during which the port had data to transmit but no data was sent "
        "during the entire tick"), 1),
    "counters/symbol_error": (_c(
        "symbol_error_total",
        "Number of minor link errors detected on one or more physical lanes."), 1),
    "counters/unicast_rcv_packets": (_c(
        "unicast_packets_received_total",
        "Number of unicast packets received (including errors)"), 1),
    "counters/unicast_xmit_packets": (_c(
        "unicast_packets_transmitted_total",
        "Number of unicast packets transmitted (including errors)"), 1),
    "counters/VL15_dropped": (_c(
        "vl15_dropped_total",
        "Number of incoming VL15 packets dropped due to resource limitations."), 1),
    "counters_ext/port_multicast_rcv_packets": (_c(
        "legacy_multicast_packets_received_total", "Number of multicast packets received"), 1),
    "counters_ext/port_multicast_xmit_packets": (_c(
        "legacy_multicast_packets_transmitted_total",
        "Number of multicast packets transmitted"), 1),
    "counters_ext/port_rcv_data_64": (_c(
        "legacy_data_received_bytes_total", f"Number of data octets received {_ALL}"), 4),
    "counters_ext/port_rcv_packets_64": (_c(
        "legacy_packets_received_total", f"Number of data packets received {_ALL}"), 1),
    "counters_ext/port_unicast_rcv_packets": (_c(
        "legacy_unicast_packets_received_total", "Number of unicast packets received"), 1),
    "counters_ext/port_unicast_xmit_packets": (_c(
        "legacy_unicast_packets_transmitted_total", "Number of unicast packets transmitted"), 1),
    "counters_ext/port_xmit_data_64": (_c(
        "legacy_data_transmitted_bytes_total", f"Number of data octets transmitted {_ALL}"), 4),
    "counters_ext/port_xmit_packets_64": (_c(
        "legacy_packets_transmitted_total", f"Number of data packets received {_ALL}"), 1),
}  # fmt: skip
_U32 = 1 << 32
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_state(text: str, source: str) -> int:
    """``4: ACTIVE`` -> 4."""
    parts = text.split(":")
    number = parts[0].strip()
    if len(parts) != 2 or not (number.isascii() and number.isdigit()) or int(number) >= _U32:
        raise ParseError(source, f"expected 'ID: NAME', got {text[:40]!r}")
    return int(number)


def parse_rate(text: str, source: str) -> int:
    """``40 Gb/sec (4X QDR)`` -> bytes per second (Gb/s times 125000000, via a float32 as Go)."""
    number, sep, _ = text.partition(" ")
    number = number.strip()
    if not sep or not _FLOAT.fullmatch(number):
        raise ParseError(source, f"unexpected rate {text[:40]!r}")
    try:  # strconv.ParseFloat(s, 32): rounded to a float32, an error beyond its range
        value = struct.unpack("f", struct.pack("f", float(number)))[0]
    except OverflowError:
        raise ParseError(source, f"rate out of range {text[:40]!r}") from None
    if not 0 <= value * 125000000 < 1 << 64:
        raise ParseError(source, f"rate out of range {text[:40]!r}")
    return int(value * 125000000)


def parse_counter(text: str, source: str, multiplier: int) -> int | None:
    """A counter's value; None for "N/A (no PMA)"."""
    value = text.strip()
    if "N/A (no PMA)" in value:
        return None
    n = go_uint(value, source) * multiplier
    return n % (1 << 64)  # Go's uint64 multiplication wraps


def _require(files: dict[str, str], path: str) -> str:
    text = files.get(path)
    if text is None:  # node_exporter: a missing attribute is "no data", not an error
        raise NoData(path)
    return text


class InfinibandCollector(Collector):
    name = "infiniband"
    specs = (INFO, STATE, PHYS_STATE, RATE, *(spec for spec, _ in COUNTERS.values()))

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            IB,
            *(f"{IB}/*/{f}" for f in DEVICE_FILES),
            *(f"{IB}/*/ports/*/{f}" for f in PORT_FILES),
            f"{IB}/*/ports/*/counters",
            f"{IB}/*/ports/*/counters/*",
            f"{IB}/*/ports/*/counters_ext/*",
        )

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        files = {f"{IB}/{rest}": text for rest, text in snap.under(IB + "/")}
        if snap.file(IB) is None and not files:
            raise NoData(IB)
        devices = sorted({p.split("/")[4] for p in files})
        for device in devices:
            base = f"{IB}/{device}"
            values = {f: _require(files, f"{base}/{f}").strip() for f in ("fw_ver", "board_id")}
            values["hca_type"] = files.get(f"{base}/hca_type", "").strip()  # optional in 0.8
            out.add(INFO, 1, device, values["board_id"], values["fw_ver"], values["hca_type"])
            ports = sorted({p.split("/")[6] for p in files if p.startswith(base + "/ports/")})
            for port in ports:
                p = f"{base}/ports/{port}"
                if not port.isdigit():
                    raise ParseError(p, "port is not a number")
                label = str(int(port))
                state = parse_state(_require(files, f"{p}/state"), f"{p}/state")
                phys = parse_state(_require(files, f"{p}/phys_state"), f"{p}/phys_state")
                rate = parse_rate(_require(files, f"{p}/rate"), f"{p}/rate")
                if f"{p}/counters" not in files and not any(
                    q.startswith(f"{p}/counters/") for q in files
                ):
                    raise NoData(f"{p}/counters")
                out.add(STATE, state, device, label)
                out.add(PHYS_STATE, phys, device, label)
                out.add(RATE, rate, device, label)
                for name, (spec, multiplier) in COUNTERS.items():
                    text = files.get(f"{p}/{name}")
                    if text is not None:
                        value = parse_counter(text, f"{p}/{name}", multiplier)
                        if value is not None:
                            out.add(spec, value, device, label)


COLLECTORS = [InfinibandCollector]
