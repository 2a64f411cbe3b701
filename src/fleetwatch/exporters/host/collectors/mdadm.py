"""mdadm: software RAID state from /proc/mdstat (parsed as prometheus/procfs does).

    node_md_state{device="md0",state="recovering"} 1
    node_md_disks{device="md0",state="failed"} 1
    node_md_blocks_synced{device="md0"} 2.49458688e+08

No /proc/mdstat (md driver not loaded): nothing is emitted, successfully.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/mdstat"
STATE = gauge("node_md_state", "Indicates the state of md-device.", "device", "state")
DISKS = gauge("node_md_disks", "Number of active/failed/spare disks of device.", "device", "state")
DISKS_REQUIRED = gauge("node_md_disks_required", "Total number of disks of device.", "device")
BLOCKS = gauge("node_md_blocks", "Total number of blocks on device.", "device")
BLOCKS_SYNCED = gauge("node_md_blocks_synced", "Number of blocks synced on device.", "device")
# procfs activity state -> node_md_state's state label
STATES = {
    "active": "active",
    "inactive": "inactive",
    "recovering": "recovering",
    "resyncing": "resync",
    "checking": "check",
}

_STATUS = re.compile(r"([0-9]+) blocks .*\[([0-9]+)/([0-9]+)\] \[([U_]+)\]")
_RECOVERY = re.compile(r"\(([0-9]+)/[0-9]+\)")


@dataclass(frozen=True)
class MDStat:
    name: str
    state: str
    active: int
    failed: int
    spare: int
    total: int
    blocks: int
    synced: int


def _status(device_line: str, status_line: str) -> tuple[int, int, int]:
    """(active disks, total disks, size in blocks) from a device's first two lines."""
    fields = status_line.split()
    if not fields or not fields[0].isascii() or not fields[0].isdigit():
        raise ParseError(PATH, f"unexpected status line {status_line[:80]!r}")
    size = int(fields[0])
    if "raid0" in device_line or "linear" in device_line:
        total = device_line.count("[")  # only member disks carry a [n]
        return total, total, size
    if "inactive" in device_line:
        return 0, 0, size
    m = _STATUS.search(status_line)
    if m is None:
        raise ParseError(PATH, f"no [n/m] [UU] in status line {status_line[:80]!r}")
    return int(m.group(3)), int(m.group(2)), size


def parse_mdstat(text: str) -> list[MDStat]:
    lines = text.split("\n")
    arrays = []
    for i, line in enumerate(lines):
        if (
            not line.strip()
            or line[0] == " "
            or line.startswith("Personalities")
            or line.startswith("unused")
        ):
            continue
        fields = line.split()
        if len(fields) < 3:
            raise ParseError(PATH, f"expected 3+ fields in {line[:80]!r}")
        name, state = fields[0], fields[2]
        if len(lines) <= i + 3:
            raise ParseError(PATH, f"too few lines for md device {name}")
        active, total, size = _status(line, lines[i + 1])
        sync_line = lines[i + 3] if "bitmap" in lines[i + 2] else lines[i + 2]
        synced = size
        recovering, resyncing = "recovery" in sync_line, "resync" in sync_line
        checking = "check" in sync_line
        if recovering or resyncing or checking:
            state = "recovering" if recovering else "checking" if checking else "resyncing"
            if "PENDING" in sync_line or "DELAYED" in sync_line:
                synced = 0
            else:
                m = _RECOVERY.search(sync_line)
                if m is None:
                    raise ParseError(PATH, f"unexpected sync line {sync_line[:80]!r}")
                synced = int(m.group(1))
        failed, spare = line.count("(F)"), line.count("(S)")
        arrays.append(MDStat(name, state, active, failed, spare, total, size, synced))
    return arrays


class MdadmCollector(Collector):
    name = "mdadm"
    specs = (STATE, DISKS, DISKS_REQUIRED, BLOCKS, BLOCKS_SYNCED)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.file(PATH)
        if text is None:
            raise NoData(PATH)
        for md in parse_mdstat(text):
            out.add(DISKS_REQUIRED, md.total, md.name)
            out.add(DISKS, md.active, md.name, "active")
            out.add(DISKS, md.failed, md.name, "failed")
            out.add(DISKS, md.spare, md.name, "spare")
            for state, label in STATES.items():
                out.add(STATE, 1 if md.state == state else 0, md.name, label)
            out.add(BLOCKS, md.blocks, md.name)
            out.add(BLOCKS_SYNCED, md.synced, md.name)


COLLECTORS = [MdadmCollector]
