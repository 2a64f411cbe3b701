"""hwmon: sensors of /sys/class/hwmon/hwmon<N>/ (temperature, fan, voltage, power, current, energy).

    node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp1"} 55
    node_hwmon_chip_names{chip="platform_coretemp_0",chip_name="coretemp"} 1
    node_hwmon_sensor_label{chip="platform_coretemp_0",label="Package id 0",sensor="temp1"} 1

Family names derive from the sensor file names as node_exporter derives them (temp1_crit ->
node_hwmon_temp_crit_celsius).  The chip label comes from the path the hwmon's ``device`` link
resolves to, which a small loop on the host prints (``cd -P``/``pwd -P``: POSIX, no readlink).
Simplification: only the temp, fan, in, power, curr and energy sensor types are read (not pwm,
humidity, intrusion, cpu/vrm, beep_enable, update_interval).
"""

from __future__ import annotations

import re

from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

HWMON = "/sys/class/hwmon"
CMD = "hwmon_devices"
SENSOR_TYPES = ("temp", "fan", "in", "power", "curr", "energy")
SNIPPET = (
    f"for d in {HWMON}/hwmon*; do "
    '[ -e "$d/device" ] && printf \'%s %s\\n\' "${d##*/}" "$(cd -P "$d/device" && pwd -P)"; '
    "done; :"
)

CHIP_NAMES = gauge(
    "node_hwmon_chip_names", "Annotation metric for human-readable chip names", "chip", "chip_name"
)
SENSOR_LABEL = gauge(
    "node_hwmon_sensor_label", "Label for given chip and sensor", "chip", "sensor", "label"
)
_LABELS = ("chip", "sensor")
_FILENAME = re.compile(r"^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$")
_INVALID = re.compile(r"[^a-z0-9:_]")


def clean_name(name: str) -> str:
    """node_exporter's cleanMetricName: lower case, [^a-z0-9:_] -> _, outer _ trimmed."""
    return _INVALID.sub("_", name.lower()).strip("_")


def chip_name(hwmon: str, device_path: str | None, name_file: str | None) -> str:
    """The ``chip`` label: <bus>_<device> of the device path, else the name file, else hwmonN."""
    if device_path:
        prefix, _, dev = device_path.rstrip("/").rpartition("/")
        dev_type = prefix.rpartition("/")[2]
        clean_dev, clean_type = clean_name(dev), clean_name(dev_type)
        if clean_dev and clean_type:
            return f"{clean_type}_{clean_dev}"
        if clean_dev:
            return clean_dev
    if name_file and clean_name(name_file):
        return clean_name(name_file)
    return clean_name(hwmon)


def parse_devices(text: str) -> dict[str, str]:
    """``{hwmonN: resolved device path}`` from the snippet's output."""
    out = {}
    for line in text.splitlines():
        hwmon, _, path = line.partition(" ")
        if hwmon.startswith("hwmon") and path.startswith("/"):
            out[hwmon] = path
    return out


def split_sensor_file(filename: str) -> tuple[str, str, str] | None:
    """(type, sensor, property) of a sensor file name: temp1_max -> (temp, temp1, max)."""
    m = _FILENAME.match(filename)
    if m is None:
        return None
    kind, num, prop = m.group("type"), m.group("id") or "0", m.group("property") or ""
    return kind, f"{kind}{int(num)}", prop


def element_metric(kind: str, element: str, bare: bool) -> tuple[Spec, float, float]:
    """The family of one sensor element, and (multiplier, divisor) to base units.

    node_exporter multiplies by 0.001 but divides by 1e6; both kept, for identical floats.
    """
    name = f"node_hwmon_{kind}"
    if element == "input":
        # input is the value itself, unless a file without property holds it
        if bare:
            name += "_input"
    elif element:
        name += "_" + clean_name(element)
    if element in ("beep", "fault", "alarm"):
        return gauge(name, f"Hardware sensor {element} status ({kind})", *_LABELS), 1.0, 1.0
    if kind == "temp" and element != "type":
        shown = element or "input"
        return (
            gauge(f"{name}_celsius", f"Hardware monitor for temperature ({shown})", *_LABELS),
            0.001,
            1.0,
        )
    if kind in ("in", "cpu"):
        return (
            gauge(f"{name}_volts", f"Hardware monitor for voltage ({element})", *_LABELS),
            0.001,
            1.0,
        )
    if kind == "power" and element == "accuracy":
        help_ = "Hardware monitor power meter accuracy, as a ratio"
        return gauge(name, help_, *_LABELS), 1.0, 1e6
    if kind == "power" and element in (
        "average_interval",
        "average_interval_min",
        "average_interval_max",
    ):
        help_ = f"Hardware monitor power usage update interval ({element})"
        return gauge(f"{name}_seconds", help_, *_LABELS), 0.001, 1.0
    if kind == "power":
        help_ = f"Hardware monitor for power usage in watts ({element})"
        return gauge(f"{name}_watt", help_, *_LABELS), 1.0, 1e6
    if kind == "curr":
        return (
            gauge(f"{name}_amps", f"Hardware monitor for current ({element})", *_LABELS),
            0.001,
            1.0,
        )
    if kind == "energy":
        help_ = f"Hardware monitor for joules used so far ({element})"
        return counter(f"{name}_joule_total", help_, *_LABELS), 1.0, 1e6
    if kind == "fan" and element in ("input", "min", "max", "target"):
        help_ = f"Hardware monitor for fan revolutions per minute ({element})"
        return gauge(f"{name}_rpm", help_, *_LABELS), 1.0, 1.0
    return gauge(name, f"Hardware monitor {kind} element {element}", *_LABELS), 1.0, 1.0


def parse_chip(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """``{sensor: {property: value}}`` from ``{file name: text}`` (device/ files after)."""
    data: dict[str, dict[str, str]] = {}
    for filename, text in files.items():
        parts = split_sensor_file(filename.rpartition("/")[2])
        if parts is None or parts[0] not in SENSOR_TYPES:
            continue
        _, sensor, prop = parts
        data.setdefault(sensor, {})[prop] = text.strip("\n")
    return data


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class HwmonCollector(Collector):
    name = "hwmon"
    specs = (
        CHIP_NAMES,
        SENSOR_LABEL,
        element_metric("temp", "input", False)[0],
        element_metric("temp", "max", False)[0],
        element_metric("temp", "crit", False)[0],
        element_metric("fan", "input", False)[0],
        element_metric("in", "input", False)[0],
        element_metric("power", "average", False)[0],
    )

    def files(self, opts: Options) -> tuple[str, ...]:
        sensors = [f"{kind}[0-9]*_*" for kind in SENSOR_TYPES]
        return (
            HWMON,  # the class directory itself: present (empty) exactly when it exists
            f"{HWMON}/hwmon*/name",
            *(f"{HWMON}/hwmon*/{s}" for s in sensors),
            *(f"{HWMON}/hwmon*/device/{s}" for s in sensors),
        )

    def commands(self, opts: Options) -> dict[str, str]:
        return {CMD: SNIPPET}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        if snap.file(HWMON) is None:
            raise NoData(HWMON)
        devices = parse_devices(snap.command(CMD) or "")
        chips: dict[str, dict[str, str]] = {}
        for path, text in snap.files.items():
            if path.startswith(HWMON + "/hwmon"):
                hwmon, _, rest = path[len(HWMON) + 1 :].partition("/")
                chips.setdefault(hwmon, {})[rest] = text
        for hwmon, files in sorted(chips.items()):
            name_file = files.pop("name", None)
            chip = chip_name(hwmon, devices.get(hwmon), name_file)
            if name_file is not None and clean_name(name_file):
                out.add(CHIP_NAMES, 1, chip, clean_name(name_file))
            # files directly in hwmonN/ first: device/ ones override them, as node_exporter reads
            ordered = sorted(files.items(), key=lambda kv: kv[0].startswith("device/"))
            data = parse_chip(dict(ordered))
            for sensor, props in sorted(data.items()):
                kind = split_sensor_file(sensor)
                if kind is None:
                    continue
                if "label" in props:
                    out.add(SENSOR_LABEL, 1, chip, sensor, props["label"])
                for element, text in props.items():
                    value = _float(text) if element != "label" else None
                    if value is None:
                        continue
                    spec, mul, div = element_metric(kind[0], element, "" in props)
                    out.add(spec, value * mul / div, chip, sensor)


COLLECTORS = [HwmonCollector]
