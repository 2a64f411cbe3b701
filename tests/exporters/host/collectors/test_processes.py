import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.processes import ProcessesCollector, parse_pid_stat
from fleetwatch.exporters.host.snapshot import Snapshot


def fixture_files() -> dict[str, str]:
    """Real /proc/PID/stat and task stats of pids 1, 2 (kthreadd) and 8349 (comm "a) (b c")."""
    files = {}
    for path in FIXTURES.glob("[0-9]*/**/stat"):
        files["/proc/" + path.relative_to(FIXTURES).as_posix()] = path.read_text()
    for name in ("pid_max", "threads-max"):
        files[f"/proc/sys/kernel/{name}"] = (FIXTURES / "sys/kernel" / name).read_text()
    return files


def collect(files: dict[str, str]) -> Families:
    out = Families()
    ProcessesCollector().collect(Snapshot(files=files), out, Options())
    return out


def test_not_a_default_collector() -> None:
    assert ProcessesCollector.default is False


def test_parse_comm_with_parentheses_and_spaces() -> None:
    text = (FIXTURES / "8349/stat").read_text()
    assert parse_pid_stat(text, "/proc/8349/stat") == ("R", 2)


def test_collect_real_processes() -> None:
    out = collect(fixture_files())
    assert out.get("node_processes_pids") == 3
    assert out.get("node_processes_threads") == 13 + 1 + 2
    assert out.get("node_processes_state", {"state": "S"}) == 2
    assert out.get("node_processes_state", {"state": "R"}) == 1
    # pid 8349's main thread counts with the process state R, its second thread is S
    assert out.get("node_processes_threads_state", {"thread_state": "R"}) == 1
    assert out.get("node_processes_threads_state", {"thread_state": "S"}) == 15
    assert out.get("node_processes_max_processes") == 32768
    assert out.get("node_processes_max_threads") == 192729


def test_vanished_process_is_skipped() -> None:
    files = fixture_files()
    files["/proc/8349/stat"] = ""  # opened, then the process exited before the read
    out = collect(files)
    assert out.get("node_processes_pids") == 2
    assert out.get("node_processes_state", {"state": "R"}) is None


def test_limits_are_mandatory() -> None:
    files = fixture_files()
    del files["/proc/sys/kernel/pid_max"]
    with pytest.raises(ParseError, match="pid_max: not readable"):
        collect(files)


def test_no_process_at_all_is_an_error() -> None:
    files = {k: v for k, v in fixture_files().items() if "/sys/" in k}
    with pytest.raises(ParseError, match="no process readable"):
        collect(files)


@pytest.mark.parametrize(
    "text",
    [
        "1 (init S 0 0",
        "1 init) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1",
        "1 (init) S 0 0",
        "1 (init) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 x",
        "1 (init) 7 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1",
        "\x00\xff\x01",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/1/stat"):
        parse_pid_stat(text, "/proc/1/stat")
