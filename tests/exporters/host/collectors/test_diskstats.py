import pytest

from fixture_paths import FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.diskstats import (
    DiskstatsCollector,
    parse_diskstats,
    parse_udev,
)
from fleetwatch.exporters.host.snapshot import Snapshot

DISKSTATS = (FIXTURES / "proc/diskstats").read_text()
UDEV = (FIXTURES / "run/udev/data/b254:0").read_text()
VDA = {"device": "vda"}


def collect(files: dict[str, str], opts: Options | None = None) -> Families:
    out = Families()
    DiskstatsCollector().collect(Snapshot(files=files), out, opts or Options())
    return out


def test_parse_real_diskstats() -> None:
    disks = {d.device: d for d in parse_diskstats(DISKSTATS)}
    assert len(disks["vda"].values) == 17
    assert (disks["vda"].major, disks["vda"].minor) == (254, 0)


def test_values_as_node_exporter_computes_them() -> None:
    # expected values are node_exporter 1.5's own output for this fixture
    out = collect({"/proc/diskstats": DISKSTATS, "/run/udev/data/b254:0": UDEV})
    assert out.get("node_disk_reads_completed_total", VDA) == 64833
    assert out.get("node_disk_read_bytes_total", VDA) == 1.919091712e09
    assert out.get("node_disk_read_time_seconds_total", VDA) == 21.777
    assert out.get("node_disk_written_bytes_total", VDA) == 1.45154048e09
    assert out.get("node_disk_io_now", VDA) == 0
    assert out.get("node_disk_io_time_weighted_seconds_total", VDA) == 28.157
    assert out.get("node_disk_discarded_sectors_total", VDA) == 121328
    assert out.get("node_disk_discard_time_seconds_total", VDA) == 0.34600000000000003
    assert out.get("node_disk_flush_requests_total", VDA) == 1405
    assert out.get("node_disk_flush_requests_time_seconds_total", VDA) == 0.092
    info = {
        "device": "vda", "major": "254", "minor": "0", "path": "pci-0000:00:05.0",
        "wwn": "", "model": "", "serial": "fw-disk-1", "revision": "",
    }  # fmt: skip
    assert out.get("node_disk_info", info) == 1
    fs = {
        "device": "vda", "type": "ext4", "usage": "filesystem",
        "uuid": "0b5a6c1e-7e3a-4b9e-9d8e-1f2a3b4c5d6e", "version": "1.0",
    }  # fmt: skip
    assert out.get("node_disk_filesystem_info", fs) == 1
    devices = {lbl["device"] for lbl, _ in out.samples("node_disk_info")}
    assert devices == {"vda", "zram0"}  # loop* excluded by the default regex


def test_old_kernels_emit_fewer_columns_and_ata_properties() -> None:
    text = "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n   8       1 sda1 1 2 3 4\n"
    udev = "E:ID_ATA=1\nE:ID_ATA_ROTATION_RATE_RPM=7200\nE:ID_ATA_WRITE_CACHE=x\n"
    out = collect({"/proc/diskstats": text, "/run/udev/data/b8:0": udev}, Options("", "", ""))
    assert out.get("node_disk_io_time_weighted_seconds_total", {"device": "sda"}) == 0.011
    assert out.get("node_disk_discards_completed_total", {"device": "sda"}) is None
    assert out.get("node_disk_ata_rotation_rate_rpm", {"device": "sda"}) == 7200
    assert out.get("node_disk_ata_write_cache", {"device": "sda"}) is None
    assert out.get("node_disk_info", {"device": "sda1"}) is None


def test_udev_properties() -> None:
    assert parse_udev(UDEV)["ID_PATH"] == "pci-0000:00:05.0"
    assert "disk/by-path" not in "".join(parse_udev(UDEV).values())


@pytest.mark.parametrize(
    "text", ["254 0\n", "254 0 vda 1 2 x 4 5 6 7 8 9 10 11\n", "a b vda 1 2 3 4 5 6 7 8 9 10 11\n"]
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/diskstats"):
        parse_diskstats(text)


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="not readable"):
        collect({})
