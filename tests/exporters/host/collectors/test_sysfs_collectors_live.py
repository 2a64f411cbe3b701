"""The /sys, filesystem and command collectors through the real script on this machine:
build_script, sh -c, parse."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fixture_paths import FIXTURES
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.collectors.cpufreq import CpufreqCollector
from fleetwatch.exporters.host.collectors.diskstats import DiskstatsCollector
from fleetwatch.exporters.host.collectors.dmi import DmiCollector
from fleetwatch.exporters.host.collectors.edac import EdacCollector
from fleetwatch.exporters.host.collectors.filesystem import FilesystemCollector
from fleetwatch.exporters.host.collectors.hwmon import HwmonCollector
from fleetwatch.exporters.host.collectors.mdadm import MdadmCollector
from fleetwatch.exporters.host.collectors.netclass import NetclassCollector
from fleetwatch.exporters.host.collectors.netdev import NetdevCollector
from fleetwatch.exporters.host.collectors.os_release import OsReleaseCollector
from fleetwatch.exporters.host.collectors.powersupply import PowerSupplyCollector
from fleetwatch.exporters.host.collectors.textfile import TextfileCollector
from fleetwatch.exporters.host.collectors.thermal import ThermalZoneCollector
from fleetwatch.exporters.host.collectors.time import TimeCollector
from fleetwatch.exporters.host.collectors.timex import TimexCollector
from fleetwatch.exporters.host.collectors.uname import UnameCollector
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.script import (
    build_script,
    new_nonce,
    parse_output,
    wrap_for_login_shell,
)

HAS_PYTHON3 = shutil.which("python3") is not None


def collectors() -> list[Collector]:
    return [
        CpufreqCollector(), DiskstatsCollector(), DmiCollector(), EdacCollector(),
        FilesystemCollector(), HwmonCollector(), MdadmCollector(), NetclassCollector(),
        NetdevCollector(), OsReleaseCollector(), PowerSupplyCollector(), TextfileCollector(),
        ThermalZoneCollector(), TimeCollector(), TimexCollector(), UnameCollector(),
    ]  # fmt: skip


ABSENT: list[str] = []  # collectors whose source this machine lacks (last run_locally)


def run_locally(opts: Options) -> tuple[Families, dict[str, str]]:
    cols = collectors()
    nonce = new_nonce()
    script = build_script(cols, opts, nonce)
    proc = subprocess.run(
        ["sh", "-c", wrap_for_login_shell(script)], capture_output=True, text=True, timeout=60
    )
    result = run_collectors(cols, parse_output(proc.stdout, nonce), opts, "localhost")
    ABSENT.clear()
    ABSENT.extend(result.absent)
    return result.families, result.errors


def test_every_collector_succeeds_on_this_machine() -> None:
    fams, errors = run_locally(Options())
    if not HAS_PYTHON3:
        assert errors.keys() <= {"timex"}
    else:
        assert errors == {}
    for c in collectors():
        expected = 0.0 if c.name in errors or c.name in ABSENT else 1.0
        assert fams.get("node_scrape_collector_success", {"collector": c.name}) == expected
    [(uname, _)] = fams.samples("node_uname_info")
    assert uname["sysname"] == "Linux" and uname["machine"] and uname["nodename"]
    root = [
        lbl for lbl, _ in fams.samples("node_filesystem_size_bytes") if lbl["mountpoint"] == "/"
    ]
    assert root and fams.get("node_filesystem_size_bytes", root[0])
    assert fams.get("node_network_receive_bytes_total", {"device": "lo"}) is not None
    assert (fams.get("node_time_seconds") or 0) > 1.6e9
    assert fams.get("node_textfile_scrape_error") == 0
    if HAS_PYTHON3:
        assert fams.get("node_timex_sync_status") in (0.0, 1.0)


def test_textfile_directory_through_the_script(tmp_path: Path) -> None:
    (tmp_path / "good.prom").write_text((FIXTURES / "textfile/good.prom").read_text())
    (tmp_path / "bad.prom").write_text((FIXTURES / "textfile/bad.prom").read_text())
    fams, _ = run_locally(Options(textfile_directory=str(tmp_path)))
    assert fams.get("backup_runs_total") == 42
    assert fams.get("node_textfile_scrape_error") == 1
    mtime = fams.get("node_textfile_mtime_seconds", {"file": f"{tmp_path}/good.prom"})
    assert mtime == pytest.approx((tmp_path / "good.prom").stat().st_mtime, abs=1.0)


def test_host_side_mount_filter_follows_the_options() -> None:
    fams, errors = run_locally(Options(mount_points_exclude="^/$"))
    mountpoints = {lbl["mountpoint"] for lbl, _ in fams.samples("node_filesystem_size_bytes")}
    assert "/" not in mountpoints
    assert "filesystem" not in errors
