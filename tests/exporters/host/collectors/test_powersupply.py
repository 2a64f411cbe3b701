import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.powersupply import PowerSupplyCollector
from fleetwatch.exporters.host.snapshot import Snapshot


def supply_files() -> dict[str, str]:
    base = FIXTURES / "sys/class/power_supply"
    return {
        f"/sys/class/power_supply/{p.relative_to(base)}": p.read_text()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def collect(files: dict[str, str]) -> Families:
    out = Families()
    PowerSupplyCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(supply_files())
    bat = {"power_supply": "BAT0"}
    assert out.get("node_power_supply_online", {"power_supply": "AC"}) == 1
    assert out.get("node_power_supply_capacity", bat) == 81
    assert out.get("node_power_supply_cyclecount", bat) == 42
    assert out.get("node_power_supply_energy_full", bat) == 45.07
    assert out.get("node_power_supply_energy_watthour", bat) == 36.58
    assert out.get("node_power_supply_power_watt", bat) == 5.002
    assert out.get("node_power_supply_voltage_volt", bat) == 12.229
    assert out.get("node_power_supply_voltage_min_design", bat) == 10.8
    assert out.get("node_power_supply_present", bat) == 1
    assert len(out.samples("node_power_supply_info")) == 2
    (labels, _), *_ = [
        s for s in out.samples("node_power_supply_info") if s[0]["type"] == "Battery"
    ]
    assert labels["serial_number"] == "1234"
    assert labels["status"] == "Discharging"
    assert labels["health"] == ""
    assert len(out) == 12


def test_temperatures_in_tenths() -> None:
    out = collect({"/sys/class/power_supply/X/temp": "-49\n"})
    assert out.get("node_power_supply_temp_celsius", {"power_supply": "X"}) == -4.9


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="BAT0/capacity"):
        collect(supply_files() | {"/sys/class/power_supply/BAT0/capacity": "full\n"})
