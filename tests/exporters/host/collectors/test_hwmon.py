import pytest

from fixture_paths import FIXTURES
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import NoData, Options
from fleetwatch.exporters.host.collectors.hwmon import (
    HwmonCollector,
    chip_name,
    clean_name,
    split_sensor_file,
)
from fleetwatch.exporters.host.snapshot import Snapshot

DEVICES = (FIXTURES / "cmd/hwmon_devices.txt").read_text()
CORETEMP = "platform_coretemp_0"
NCT = "platform_nct6775_656"


def hwmon_files() -> dict[str, str]:
    base = FIXTURES / "sys/class/hwmon"
    return {
        "/sys/class/hwmon": "",  # the class directory, as the host's head shows it
        **{
            f"/sys/class/hwmon/{p.relative_to(base)}": p.read_text()
            for p in sorted(base.rglob("*"))
            if p.is_file()
        },
    }


def collect(files: dict[str, str], devices: str = DEVICES) -> Families:
    out = Families()
    snap = Snapshot(files=files, commands={"hwmon_devices": devices})
    HwmonCollector().collect(snap, out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    # every expected sample below is node_exporter 1.5's output for this fixture
    out = collect(hwmon_files())
    t1 = {"chip": CORETEMP, "sensor": "temp1"}
    assert out.get("node_hwmon_temp_celsius", t1) == 55
    assert out.get("node_hwmon_temp_max_celsius", t1) == 100
    assert out.get("node_hwmon_temp_crit_celsius", t1) == 100
    assert out.get("node_hwmon_temp_crit_alarm_celsius", t1) == 0
    assert out.get("node_hwmon_temp_celsius", {"chip": "acpitz", "sensor": "temp1"}) == 27.8
    fan = {"chip": NCT, "sensor": "fan1"}
    assert out.get("node_hwmon_fan_rpm", fan) == 1200
    assert out.get("node_hwmon_fan_min_rpm", fan) == 300
    assert out.get("node_hwmon_fan_alarm", fan) == 0
    assert out.get("node_hwmon_fan_div", fan) == 8
    assert out.get("node_hwmon_in_volts", {"chip": NCT, "sensor": "in1"}) == 3.3120000000000003
    assert out.get("node_hwmon_in_max_volts", {"chip": NCT, "sensor": "in0"}) == 1.744
    power = {"chip": NCT, "sensor": "power1"}
    assert out.get("node_hwmon_power_average_watt", power) == 25
    assert out.get("node_hwmon_power_average_interval_seconds", power) == 1
    names = {(lbl["chip"], lbl["chip_name"]) for lbl, _ in out.samples("node_hwmon_chip_names")}
    assert names == {(CORETEMP, "coretemp"), (NCT, "nct6775"), ("acpitz", "acpitz")}
    label = {"chip": CORETEMP, "sensor": "temp1", "label": "Package id 0"}
    assert out.get("node_hwmon_sensor_label", label) == 1
    assert len(out) == 24  # as many samples as node_exporter


def test_chip_name_preferences() -> None:
    assert chip_name("hwmon3", "/sys/devices/pci0000:00/0000:00:18.3", "k10temp\n") == (
        "pci0000:00_0000:00:18_3"
    )
    assert chip_name("hwmon3", None, "k10temp\n") == "k10temp"
    assert chip_name("hwmon3", None, None) == "hwmon3"
    assert clean_name("Core 0\n") == "core_0"


def test_sensor_file_names() -> None:
    assert split_sensor_file("temp1_crit_alarm") == ("temp", "temp1", "crit_alarm")
    assert split_sensor_file("in0_input") == ("in", "in0", "input")


def test_garbage_values_are_skipped_and_no_hwmon_is_fine() -> None:
    files = hwmon_files() | {"/sys/class/hwmon/hwmon0/temp1_input": "\x00junk\n"}
    out = collect(files, "garbage\n")
    assert out.get("node_hwmon_temp_celsius", {"chip": "coretemp", "sensor": "temp1"}) is None
    assert out.get("node_hwmon_temp_celsius", {"chip": "coretemp", "sensor": "temp2"}) == 54
    assert len(collect({"/sys/class/hwmon": ""}, "")) == 0  # present, no chips
    with pytest.raises(NoData):  # no hwmon class at all: success 0, as node_exporter
        collect({}, "")
