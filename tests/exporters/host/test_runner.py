"""The collector runner: absent sources are success 0 without an error (node_exporter's
ErrNoData), and the per-target memo gives a collector whose inputs are unchanged its last
outcome again."""

from __future__ import annotations

from pathlib import Path

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.runner import Memo, run_collectors
from fleetwatch.exporters.host.snapshot import Snapshot

SHARED = gauge("fw_test_shared", "one family two collectors write", "source")
PATH = "/sys/test/value"
OPTIONAL = ("dmi", "hwmon", "mdadm", "schedstat")


class Counting(Collector):
    """Reads one file; counts its collect calls; garbage and absence as the real ones."""

    name = "counting"
    specs = (SHARED,)

    def __init__(self) -> None:
        self.calls = 0

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return (snap.file(PATH),)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        self.calls += 1
        text = snap.file(PATH)
        if text is None:
            raise NoData(PATH)
        if not text.strip().isdigit():
            raise ParseError(PATH, f"not a number: {text[:20]!r}")
        out.add(SHARED, int(text), "memoized")


class Writer(Collector):
    """Not memoized; writes into the same family afterwards."""

    name = "writer"
    specs = (SHARED,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        out.add(SHARED, 7, "other")


def without_durations(result) -> bytes:
    lines = result.families.render().splitlines(keepends=True)
    return b"".join(x for x in lines if b"collector_duration" not in x)


def _run(collectors: list[Collector], text: str | None, memo: Memo):
    files = {} if text is None else {PATH: text}
    return run_collectors(collectors, Snapshot(files=files), Options(), "t", memo)


def test_unchanged_inputs_reuse_the_outcome_and_changed_ones_do_not() -> None:
    counting, memo = Counting(), {}
    first = _run([counting, Writer()], "41\n", memo)
    second = _run([counting, Writer()], "41\n", memo)
    assert counting.calls == 1
    assert without_durations(second) == without_durations(first)
    assert second.families.get("fw_test_shared", {"source": "memoized"}) == 41
    # the later collector's sample went into the probe's copy, never into the memo
    assert second.families.get("fw_test_shared", {"source": "other"}) == 7
    assert memo["counting"].samples.samples("fw_test_shared") == [({"source": "memoized"}, 41)]
    third = _run([counting, Writer()], "42\n", memo)
    assert counting.calls == 2
    assert third.families.get("fw_test_shared", {"source": "memoized"}) == 42


def test_errors_and_absence_are_replayed_as_such() -> None:
    counting, memo = Counting(), {}
    for _ in range(2):
        result = _run([counting], "garbage", memo)
        assert "not a number" in result.errors["counting"]
        assert result.families.get("node_scrape_collector_success", {"collector": "counting"}) == 0
    for _ in range(2):
        result = _run([counting], None, memo)
        assert result.absent == ["counting"] and result.errors == {}
    assert counting.calls == 2
    assert _run([counting], "5", memo).families.get("fw_test_shared", {"source": "memoized"}) == 5


def test_other_options_are_other_inputs() -> None:
    counting, memo = Counting(), {}
    snap = Snapshot(files={PATH: "1"})
    run_collectors([counting], snap, Options(), "t", memo)
    run_collectors([counting], snap, Options(vmstat_fields="x"), "t", memo)
    assert counting.calls == 2


def test_memoized_real_collectors_render_what_a_fresh_run_renders() -> None:
    # two answers of this machine's sources, read a moment apart, through every collector
    fixtures = Path(__file__).parents[2] / "fixtures" / "proc"
    snap = Snapshot(
        files={
            "/sys/class/net/eth0/mtu": "1500\n",
            "/sys/class/net/eth0/operstate": "up\n",
            "/sys/class/net/eth0/address": "02:00:00:00:00:01\n",
            "/sys/class/net/lo/mtu": "65536\n",
            "/etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
            "/proc/meminfo": (fixtures / "meminfo").read_text(),
        }
    )
    collectors = [c for c in select() if c.name in ("netclass", "os", "meminfo")]
    assert {c.name for c in collectors} == {"netclass", "os", "meminfo"}
    memo: Memo = {}
    fresh = [run_collectors(collectors, snap, Options(), "t") for _ in range(2)]
    kept = [run_collectors(collectors, snap, Options(), "t", memo) for _ in range(2)]
    assert set(memo) == {"netclass", "os"}  # meminfo changes every probe: never memoized

    assert without_durations(kept[1]) == without_durations(fresh[1])
    assert kept[1].families.get("node_network_mtu_bytes", {"device": "eth0"}) == 1500


def test_absent_sources_are_success_0_without_an_error() -> None:
    collectors = [c for c in select() if c.name in OPTIONAL]
    assert [c.name for c in collectors] == sorted(OPTIONAL)
    result = run_collectors(collectors, Snapshot(), Options(), "bare-host")
    for name in OPTIONAL:
        assert result.families.get("node_scrape_collector_success", {"collector": name}) == 0
    assert sorted(result.absent) == sorted(OPTIONAL)
    assert result.errors == {}


def test_present_but_empty_sources_succeed() -> None:
    collectors = [c for c in select() if c.name in OPTIONAL]
    snap = Snapshot(
        files={
            "/sys/class/dmi/id": "",  # the directory exists (read as a file: empty)
            "/sys/class/hwmon": "",
            "/proc/mdstat": "Personalities : \nunused devices: <none>\n",
            "/proc/schedstat": "version 15\ntimestamp 4294\ncpu0 0 0 0 0 0 0 10 20 30\n",
        }
    )
    result = run_collectors(collectors, snap, Options(), "host")
    for name in OPTIONAL:
        assert result.families.get("node_scrape_collector_success", {"collector": name}) == 1
    assert result.absent == [] and result.errors == {}
