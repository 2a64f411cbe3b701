"""dmi: /sys/class/dmi/id/ (SMBIOS strings).

    node_dmi_info{bios_vendor="SeaBIOS",product_name="Standard PC (Q35 + ICH9, 2009)",system_vendor="QEMU"} 1

node_exporter omits the labels of unreadable files (serials and the UUID are root-only); an
empty label value is the same series to Prometheus, so they are "" here.  No readable file:
no sample.
"""  # noqa: E501

from __future__ import annotations

from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

DMI_ID = "/sys/class/dmi/id"
# label -> file
FILES = {
    "bios_date": "bios_date",
    "bios_release": "bios_release",
    "bios_vendor": "bios_vendor",
    "bios_version": "bios_version",
    "board_asset_tag": "board_asset_tag",
    "board_name": "board_name",
    "board_serial": "board_serial",
    "board_vendor": "board_vendor",
    "board_version": "board_version",
    "chassis_asset_tag": "chassis_asset_tag",
    "chassis_serial": "chassis_serial",
    "chassis_vendor": "chassis_vendor",
    "chassis_version": "chassis_version",
    "product_family": "product_family",
    "product_name": "product_name",
    "product_serial": "product_serial",
    "product_sku": "product_sku",
    "product_uuid": "product_uuid",
    "product_version": "product_version",
    "system_vendor": "sys_vendor",
}
INFO = gauge(
    "node_dmi_info",
    "A metric with a constant '1' value labeled by " + ", ".join(FILES) + " if provided by DMI.",
    *FILES,
)


def parse_dmi(files: dict[str, str]) -> dict[str, str] | None:
    """Label values by label name from ``{file name: text}``; None when nothing was read."""
    if not any(name in files for name in FILES.values()):
        return None
    # node_exporter replaces invalid UTF-8; the text already is str, so only trim here
    return {label: files.get(name, "").strip() for label, name in FILES.items()}


class DmiCollector(Collector):
    name = "dmi"
    specs = (INFO,)

    def files(self, opts: Options) -> tuple[str, ...]:
        # the directory itself too: read as a file it shows up (empty) exactly when it exists
        return (DMI_ID, *(f"{DMI_ID}/{name}" for name in FILES.values()))

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return (snap.file(DMI_ID), *snap.under(DMI_ID + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        if snap.file(DMI_ID) is None:
            raise NoData(DMI_ID)
        read = {
            name: text
            for name in FILES.values()
            if (text := snap.file(f"{DMI_ID}/{name}")) is not None
        }
        labels = parse_dmi(read)
        if labels is not None:
            out.add(INFO, 1, *(labels[label] for label in INFO.labels))


COLLECTORS = [DmiCollector]
