import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.thermal import ThermalZoneCollector
from fleetwatch.exporters.host.snapshot import Snapshot


def thermal_files() -> dict[str, str]:
    base = FIXTURES / "sys/class/thermal"
    return {
        f"/sys/class/thermal/{p.relative_to(base)}": p.read_text()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def collect(files: dict[str, str]) -> Families:
    out = Families()
    ThermalZoneCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(thermal_files())
    assert out.get("node_thermal_zone_temp", {"zone": "0", "type": "x86_pkg_temp"}) == 52
    assert out.get("node_thermal_zone_temp", {"zone": "1", "type": "acpitz"}) == -27.8
    proc = {"name": "0", "type": "Processor"}
    assert out.get("node_cooling_device_cur_state", proc) == 0
    assert out.get("node_cooling_device_max_state", proc) == 3
    clamp = {"name": "1", "type": "intel_powerclamp"}
    assert out.get("node_cooling_device_cur_state", clamp) == -1


def test_unreadable_zone_is_skipped_and_none_is_fine() -> None:
    out = collect(thermal_files() | {"/sys/class/thermal/thermal_zone0/temp": ""})
    assert len(out.samples("node_thermal_zone_temp")) == 1
    assert len(collect({})) == 0


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="thermal_zone0/temp"):
        collect(thermal_files() | {"/sys/class/thermal/thermal_zone0/temp": "hot\n"})
