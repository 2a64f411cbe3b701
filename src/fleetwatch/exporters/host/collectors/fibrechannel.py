"""fibrechannel: Fibre Channel host adapters of /sys/class/fc_host/<host>/.

    node_fibrechannel_info{fc_host="host0",port_state="Online",speed="16 Gbit",...} 1
    node_fibrechannel_rx_frames_total{fc_host="host0"} 3

As procfs 0.8 reads them: every attribute below must exist (an adapter lacking one fails
the collector), the ``*_name`` / ``port_id`` values lose their "0x", counters are Go integers
(``0x13``), an absent one is 0, and a counter of 2^64-1 (not implemented by the firmware)
is not exported.  No
fc_host class: NoData.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes, go_uint
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

FC_HOST = "/sys/class/fc_host"
ATTRIBUTES = ("speed", "port_state", "port_type", "node_name", "port_id", "port_name",
              "fabric_name", "dev_loss_tmo", "symbolic_name", "supported_classes",
              "supported_speeds")  # fmt: skip
_HEX_NAMES = ("node_name", "port_id", "port_name", "fabric_name")
INFO_LABELS = ("fc_host", "speed", "port_state", "port_type", "port_id", "port_name",
               "fabric_name", "symbolic_name", "supported_classes", "supported_speeds",
               "dev_loss_tmo")  # fmt: skip
INFO = gauge(
    "node_fibrechannel_info",
    "Non-numeric data from /sys/class/fc_host/<host>, value is always 1.",
    *INFO_LABELS,
)
_MAX = (1 << 64) - 1


def _c(name: str, help: str) -> Spec:
    return counter(f"node_fibrechannel_{name}", help, "fc_host")


# statistics file -> family, in node_exporter's order
COUNTERS: dict[str, Spec] = {
    "dumped_frames": _c("dumped_frames_total", "Number of dumped frames"),
    "error_frames": _c("error_frames_total", "Number of errors in frames"),
    "invalid_crc_count": _c("invalid_crc_total", "Invalid Cyclic Redundancy Check count"),
    "rx_frames": _c("rx_frames_total", "Number of frames received"),
    "rx_words": _c("rx_words_total", "Number of words received by host port"),
    "tx_frames": _c("tx_frames_total", "Number of frames transmitted by host port"),
    "tx_words": _c("tx_words_total", "Number of words transmitted by host port"),
    "seconds_since_last_reset": _c("seconds_since_last_reset_total",
                                   "Number of seconds since last host port reset"),
    "invalid_tx_word_count": _c("invalid_tx_words_total",
                                "Number of invalid words transmitted by host port"),
    "link_failure_count": _c("link_failure_total", "Number of times the host port link has failed"),
    "loss_of_sync_count": _c("loss_of_sync_total",
                             "Number of failures on either bit or transmission word boundaries"),
    "loss_of_signal_count": _c("loss_of_signal_total", "Number of times signal has been lost"),
    "nos_count": _c("nos_total", "Number Not_Operational Primitive Sequence received by host port"),
    "fcp_packet_aborts": _c("fcp_packet_aborts_total", "Number of aborted packets"),
}  # fmt: skip


def parse_fc_host(host: str, attrs: dict[str, str]) -> tuple[dict[str, str], dict[str, int]]:
    """(info label values, counters) of one adapter."""
    info = {"fc_host": host}
    for attr in ATTRIBUTES:
        text = attrs.get(attr)
        if text is None:
            raise ParseError(f"{FC_HOST}/{host}/{attr}", "failed to read file")
        value = text.strip()
        if attr in _HEX_NAMES and len(value) > 2:
            value = value[2:]
        info[attr] = value
    counters: dict[str, int] = {}
    for name in COUNTERS:  # an absent statistics file is 0 (procfs's zero-valued struct)
        stat = attrs.get(f"statistics/{name}")
        source = f"{FC_HOST}/{host}/statistics/{name}"
        counters[name] = 0 if stat is None else go_uint(stat.strip(), source)
    return info, counters


class FibrechannelCollector(Collector):
    name = "fibrechannel"
    specs = (INFO, *COUNTERS.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            FC_HOST,
            *(f"{FC_HOST}/*/{a}" for a in ATTRIBUTES),
            f"{FC_HOST}/*/statistics",
            *(f"{FC_HOST}/*/statistics/{c}" for c in COUNTERS),
        )

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return (snap.file(FC_HOST), *snap.under(FC_HOST + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        if snap.file(FC_HOST) is None and not snap.under(FC_HOST + "/"):
            raise NoData(FC_HOST)
        names = (*ATTRIBUTES, "statistics", *(f"statistics/{c}" for c in COUNTERS))
        for host, attrs in attributes(snap, FC_HOST, names).items():
            if "statistics" not in attrs and not any(a.startswith("statistics/") for a in attrs):
                raise ParseError(f"{FC_HOST}/{host}/statistics", "no such directory")
            info, counters = parse_fc_host(host, attrs)
            out.add(
                INFO, 1, *(info[label] if label != "fc_host" else host for label in INFO_LABELS)
            )
            for name, value in counters.items():
                if value != _MAX:
                    out.add(COUNTERS[name], value, host)


COLLECTORS = [FibrechannelCollector]
