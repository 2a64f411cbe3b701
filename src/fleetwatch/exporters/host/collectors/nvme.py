"""nvme: controllers of /sys/class/nvme/<device>/.

    node_nvme_info{device="nvme0",firmware_revision="1B2QEXP7",model="Samsung SSD 970 PRO 512GB",serial="S680HF8N190894I",state="live"} 1

A controller needs firmware_rev, model, serial and state; as node_exporter 1.5, one missing
(or no nvme class) is NoData.
"""  # noqa: E501

from __future__ import annotations

from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

NVME = "/sys/class/nvme"
ATTRIBUTES = ("firmware_rev", "model", "serial", "state")  # procfs 0.8 reads no cntlid
INFO = gauge(
    "node_nvme_info",
    "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
    "device", "firmware_revision", "model", "serial", "state",
)  # fmt: skip


class NvmeCollector(Collector):
    name = "nvme"
    specs = (INFO,)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (NVME, *(f"{NVME}/*/{a}" for a in ATTRIBUTES))

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return (snap.file(NVME), *snap.under(NVME + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        devices = attributes(snap, NVME, ATTRIBUTES)
        if snap.file(NVME) is None and not devices:
            raise NoData(NVME)
        for device, attrs in devices.items():
            missing = [a for a in ATTRIBUTES if a not in attrs]
            if missing:
                raise NoData(f"{NVME}/{device}/{missing[0]}")
            v = {a: attrs[a].strip() for a in ATTRIBUTES}
            out.add(INFO, 1, device, v["firmware_rev"], v["model"], v["serial"], v["state"])


COLLECTORS = [NvmeCollector]
