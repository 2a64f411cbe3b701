import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.edac import EdacCollector
from fleetwatch.exporters.host.snapshot import Snapshot

MC = "/sys/devices/system/edac/mc"


def edac_files() -> dict[str, str]:
    base = FIXTURES / MC.lstrip("/")
    return {
        f"{MC}/{p.relative_to(base)}": p.read_text() for p in sorted(base.rglob("*")) if p.is_file()
    }


def collect(files: dict[str, str]) -> Families:
    out = Families()
    EdacCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_values_as_node_exporter_emits_them() -> None:
    out = collect(edac_files())
    mc0 = {"controller": "0"}
    assert out.get("node_edac_correctable_errors_total", mc0) == 1
    assert out.get("node_edac_uncorrectable_errors_total", mc0) == 5
    row = "node_edac_csrow_correctable_errors_total"
    assert out.get(row, mc0 | {"csrow": "unknown"}) == 2
    assert out.get(row, mc0 | {"csrow": "0"}) == 3
    urow = "node_edac_csrow_uncorrectable_errors_total"
    assert out.get(urow, mc0 | {"csrow": "unknown"}) == 6
    assert out.get(urow, mc0 | {"csrow": "0"}) == 4
    assert len(out) == 6


def test_no_controller_is_fine() -> None:
    assert len(collect({})) == 0


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="mc0/ue_count"):
        collect(edac_files() | {f"{MC}/mc0/ue_count": "-1\n"})
    files = edac_files()
    del files[f"{MC}/mc0/csrow0/ce_count"]
    with pytest.raises(ParseError, match="csrow0/ce_count"):
        collect(files)
