"""node_exporter's path options: where the plan reads, and the standard paths given back."""

from __future__ import annotations

import pytest

from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.paths import host_view, to_host
from fleetwatch.exporters.host.script import make_plan
from fleetwatch.exporters.host.snapshot import Snapshot
from fleetwatch.inventory import inventory_from_text

MOVED = Options(procfs="/host/proc", sysfs="/host/sys", rootfs="/host", udev_data="/udev")


@pytest.mark.parametrize(
    ("pattern", "where"),
    [
        ("/proc/net/rpc/nfs", "/host/proc/net/rpc/nfs"),
        ("/sys/class/nvme/*/model", "/host/sys/class/nvme/*/model"),
        ("/run/udev/data/b8:0", "/udev/b8:0"),
        ("/etc/os-release", "/host/etc/os-release"),
        ("/proc", "/host/proc"),
        ("/process/x", "/host/process/x"),  # a prefix of a name is not the tree
    ],
)
def test_patterns_are_read_where_the_trees_are(pattern: str, where: str) -> None:
    assert to_host(pattern, MOVED) == where
    assert to_host(pattern, Options()) == pattern


def test_the_snapshot_gets_the_standard_paths_back() -> None:
    snap = Snapshot(
        files={
            "/host/proc/loadavg": "1",
            "/host/sys/class/nvme/nvme0/model": "m",
            "/host/etc/os-release": "ID=x",
            "/udev/b8:0": "E:ID=1",
            "/var/lib/tf/a.prom": "x 1",
        },
        commands={"date": "1"},
    )
    opts = Options(**{**MOVED.__dict__, "textfile_directory": "/var/lib/tf"})
    view = host_view(snap, opts)
    assert view.files == {
        "/proc/loadavg": "1",
        "/sys/class/nvme/nvme0/model": "m",
        "/etc/os-release": "ID=x",
        "/run/udev/data/b8:0": "E:ID=1",
        "/var/lib/tf/a.prom": "x 1",  # the textfile directory is taken as it is
    }
    assert view.commands == {"date": "1"}
    assert host_view(snap, Options()) is snap


def test_only_moved_trees_move() -> None:
    opts = Options(sysfs="/mnt/sys")
    assert to_host("/proc/stat", opts) == "/proc/stat"
    view = host_view(Snapshot(files={"/proc/stat": "a", "/mnt/sys/x": "b"}), opts)
    assert view.files == {"/proc/stat": "a", "/sys/x": "b"}


def test_the_plan_reads_the_moved_trees() -> None:
    plan = make_plan(select(), MOVED)
    assert "/host/proc/net/rpc/nfsd" in plan.files
    assert not any(p.startswith(("/proc/", "/sys/")) for p in plan.files)
    assert make_plan(select(), MOVED).key != make_plan(select(), Options()).key


def test_the_inventory_takes_the_options() -> None:
    text = (
        "version: 1\ndeployments:\n  - name: d\n    provider: local\n    hosts:\n"
        "      - name: h\n        address: localhost\n        modules: [local]\n"
        "        collectors:\n          options: {procfs: /host/proc, sysfs: /host/sys,"
        " rootfs: /host, udev_data: /host/run/udev/data}\n"
    )
    host = inventory_from_text(text, "<t>").hosts()[0]
    assert (host.options.procfs, host.options.rootfs) == ("/host/proc", "/host")
    with pytest.raises(Exception, match="procfs"):
        inventory_from_text(text.replace("/host/proc", "'host proc'"), "<t>")
