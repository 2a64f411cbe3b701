"""powersupplyclass: /sys/class/power_supply/<supply>/ (batteries, AC adapters, UPS via HID).

    node_power_supply_online{power_supply="AC"} 1
    node_power_supply_energy_watthour{power_supply="BAT0"} 36.58
    node_power_supply_info{power_supply="BAT0",status="Discharging",technology="Li-ion",type="Battery"} 1

node_power_supply_info has node_exporter's label names; those whose file is absent are "" here
(node_exporter omits them: the same series to Prometheus).
"""  # noqa: E501

from __future__ import annotations

from fleetwatch.exporters.families import Families, Spec, gauge
from fleetwatch.exporters.host.collectors._sysfs import attributes, go_int, sysfs_value
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_PS = "/sys/class/power_supply"


def _spec(name: str) -> Spec:
    return gauge(
        f"node_power_supply_{name}",
        f"{name} value of /sys/class/power_supply/<power_supply>.",
        "power_supply",
    )


_RAW = {
    "authentic": "authentic", "calibrate": "calibrate", "capacity": "capacity",
    "capacity_alert_max": "capacity_alert_max", "capacity_alert_min": "capacity_alert_min",
    "cycle_count": "cyclecount", "online": "online", "present": "present",
    "time_to_empty_now": "time_to_empty_seconds", "time_to_full_now": "time_to_full_seconds",
}  # fmt: skip
# µA, µV, µWh, µAh, µW -> base units
_MICRO = {
    "current_boot": "current_boot", "current_max": "current_max", "current_now": "current_ampere",
    "energy_empty": "energy_empty", "energy_empty_design": "energy_empty_design",
    "energy_full": "energy_full", "energy_full_design": "energy_full_design",
    "energy_now": "energy_watthour", "voltage_boot": "voltage_boot", "voltage_max": "voltage_max",
    "voltage_max_design": "voltage_max_design", "voltage_min": "voltage_min",
    "voltage_min_design": "voltage_min_design", "voltage_now": "voltage_volt",
    "voltage_ocv": "voltage_ocv", "charge_control_limit": "charge_control_limit",
    "charge_control_limit_max": "charge_control_limit_max", "charge_counter": "charge_counter",
    "charge_empty": "charge_empty", "charge_empty_design": "charge_empty_design",
    "charge_full": "charge_full", "charge_full_design": "charge_full_design",
    "charge_now": "charge_ampere", "charge_term_current": "charge_term_current",
    "constant_charge_current": "constant_charge_current",
    "constant_charge_current_max": "constant_charge_current_max",
    "constant_charge_voltage": "constant_charge_voltage",
    "constant_charge_voltage_max": "constant_charge_voltage_max",
    "precharge_current": "precharge_current", "input_current_limit": "input_current_limit",
    "power_now": "power_watt",
}  # fmt: skip
# tenths of a degree Celsius
_DECI = {
    "temp": "temp_celsius", "temp_alert_max": "temp_alert_max_celsius",
    "temp_alert_min": "temp_alert_min_celsius", "temp_ambient": "temp_ambient_celsius",
    "temp_ambient_max": "temp_ambient_max_celsius", "temp_ambient_min": "temp_ambient_min_celsius",
    "temp_max": "temp_max_celsius", "temp_min": "temp_min_celsius",
}  # fmt: skip
# attribute -> (family, divisor)
NUMERIC: dict[str, tuple[Spec, float]] = {
    **{attr: (_spec(name), 1.0) for attr, name in _RAW.items()},
    **{attr: (_spec(name), 1e6) for attr, name in _MICRO.items()},
    **{attr: (_spec(name), 10.0) for attr, name in _DECI.items()},
}
INFO_KEYS = (
    "type", "capacity_level", "charge_type", "health", "manufacturer", "model_name",
    "serial_number", "status", "technology", "usb_type", "scope",
)  # fmt: skip
INFO = gauge(
    "node_power_supply_info",
    "info of /sys/class/power_supply/<power_supply>.",
    "power_supply",
    *INFO_KEYS,
)


def parse_supply(name: str, attrs: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """(readable numeric attributes, info strings with "" for absent ones) of one supply."""
    numbers = {}
    for attr in NUMERIC:
        value = sysfs_value(attrs.get(attr))
        if value is not None:
            numbers[attr] = go_int(value, f"{SYS_PS}/{name}/{attr}")
    strings = {key: sysfs_value(attrs.get(key)) or "" for key in INFO_KEYS}
    return numbers, strings


class PowerSupplyCollector(Collector):
    name = "powersupplyclass"
    specs = (*(spec for spec, _ in NUMERIC.values()), INFO)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (f"{SYS_PS}/*/*",)

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return tuple(snap.under(SYS_PS + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        wanted = (*NUMERIC, *INFO_KEYS)
        for supply, attrs in attributes(snap, SYS_PS, wanted).items():
            numbers, strings = parse_supply(supply, attrs)
            for attr, value in numbers.items():
                spec, divisor = NUMERIC[attr]
                out.add(spec, value / divisor, supply)
            out.add(INFO, 1, supply, *(strings[key] for key in INFO_KEYS))


COLLECTORS = [PowerSupplyCollector]
