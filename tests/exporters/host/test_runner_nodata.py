"""Absent sources: success 0 as node_exporter's ErrNoData, and no error recorded."""

from __future__ import annotations

from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.snapshot import Snapshot

OPTIONAL = ("dmi", "hwmon", "mdadm", "schedstat")


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
