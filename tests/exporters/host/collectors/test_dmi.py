import pytest

from fixture_paths import FIXTURES
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import NoData, Options
from fleetwatch.exporters.host.collectors.dmi import DmiCollector
from fleetwatch.exporters.host.snapshot import Snapshot


def dmi_files() -> dict[str, str]:
    base = FIXTURES / "sys/class/dmi/id"
    files = {f"/sys/class/dmi/id/{p.name}": p.read_text() for p in sorted(base.iterdir())}
    return {"/sys/class/dmi/id": "", **files}  # the directory, as the host's head shows it


def collect(files: dict[str, str]) -> Families:
    out = Families()
    DmiCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_labels_as_node_exporter_emits_them() -> None:
    out = collect(dmi_files())
    [(labels, value)] = out.samples("node_dmi_info")
    assert value == 1
    assert labels["bios_version"] == "N2HET58W (1.41 )"
    assert labels["system_vendor"] == "LENOVO"
    assert labels["product_sku"] == "LENOVO_MT_20QD_BU_Think_FM_ThinkPad X1 Carbon 7th"
    assert labels["product_serial"] == ""  # root-only file, unreadable
    assert len(labels) == 20


def test_no_dmi_is_no_data_and_junk_is_a_label() -> None:
    with pytest.raises(NoData):  # no /sys/class/dmi/id: success 0, as node_exporter
        collect({})
    assert len(collect({"/sys/class/dmi/id": ""})) == 0  # present, nothing readable
    # a binary junk value is still just a label value, never an exception
    junk = {"/sys/class/dmi/id": "", "/sys/class/dmi/id/bios_vendor": "\x00\xff\n"}
    assert len(collect(junk)) == 1
