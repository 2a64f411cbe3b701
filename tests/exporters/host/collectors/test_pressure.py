import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.pressure import PressureCollector, parse_psi
from fleetwatch.exporters.host.snapshot import Snapshot

FILES = {
    f"/proc/pressure/{r}": (FIXTURES / "pressure" / r).read_text() for r in ("cpu", "io", "memory")
}


def collect(files: dict[str, str]) -> Families:
    out = Families()
    PressureCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_collect_real_files() -> None:
    out = collect(FILES)
    assert out.get("node_pressure_cpu_waiting_seconds_total") == 6706376 / 1000.0 / 1000.0
    assert out.get("node_pressure_io_waiting_seconds_total") == 4195227 / 1000.0 / 1000.0
    assert out.get("node_pressure_io_stalled_seconds_total") == 4036870 / 1000.0 / 1000.0
    assert out.get("node_pressure_memory_waiting_seconds_total") == 0
    assert out.get("node_pressure_memory_stalled_seconds_total") == 0
    # node_exporter 1.5 has no cpu "full" family
    assert len(out) == 5


def test_same_float_as_node_exporter() -> None:
    # node_exporter printed 2.0898649999999996 for total=2089865, not 2.089865
    out = collect(
        {
            "/proc/pressure/io": "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
            "full avg10=0.00 avg60=0.00 avg300=0.00 total=2089865\n"
        }
    )
    assert out.get("node_pressure_io_stalled_seconds_total") == 2.0898649999999996


def test_no_psi_means_no_samples() -> None:
    assert len(collect({})) == 0
    # psi=0 on the kernel command line: the files exist but reading fails
    assert len(collect(dict.fromkeys(FILES, ""))) == 0


def test_missing_full_line_is_an_error() -> None:
    with pytest.raises(ParseError, match="/proc/pressure/io: no 'full' line"):
        collect({"/proc/pressure/io": FILES["/proc/pressure/io"].splitlines()[0] + "\n"})


@pytest.mark.parametrize(
    "text",
    [
        "some avg10=0.00 avg60=0.00 total=5\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=x\n",
        "full avg10=a avg60=0.00 avg300=0.00 total=1\n",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/pressure/cpu"):
        parse_psi(text, "/proc/pressure/cpu")


def test_binary_junk_in_a_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="/proc/pressure/memory"):
        collect({"/proc/pressure/memory": "\x00\xff\x01 junk\n"})
