"""tapestats: SCSI tape statistics of /sys/class/scsi_tape/st<N>/stats/.

    node_tape_io_now{device="st0"} 1
    node_tape_written_bytes_total{device="st0"} 1.496246784e+12

Only ``st<N>`` devices (not the nst / st<N>a aliases of the same drive); every file of stats/
must parse.  No scsi_tape class, or a tape without stats/: NoData, as node_exporter 1.5.
"""

from __future__ import annotations

from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors._sysfs import go_uint
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot

TAPES = "/sys/class/scsi_tape"
_NS = 0.000000001


def _c(name: str, help: str) -> Spec:
    return counter(f"node_tape_{name}", help, "device")


# stats file -> (family, scale)
STATS: dict[str, tuple[Spec, float]] = {
    "in_flight": (gauge("node_tape_io_now",
                        "The number of I/Os currently outstanding to this device.", "device"), 1),
    "io_ns": (_c("io_time_seconds_total",
                 "The amount of time spent waiting for all I/O to complete (including read and "
                 "write). This includes tape movement commands such as seeking between file or "
                 "set marks and implicit tape movement such as when rewind on close tape devices "
                 "are used."), _NS),
    "other_cnt": (_c("io_others_total",
                     "The number of I/Os issued to the tape drive other than read or write "
                     "commands. The time taken to complete these commands uses the following "
                     "calculation io_time_seconds_total-read_time_seconds_total-"
                     "write_time_seconds_total"), 1),
    "read_byte_cnt": (_c("read_bytes_total", "The number of bytes read from the tape drive."), 1),
    "read_cnt": (_c("reads_completed_total",
                    "The number of read requests issued to the tape drive."), 1),
    "read_ns": (_c("read_time_seconds_total",
                   "The amount of time spent waiting for read requests to complete."), _NS),
    "resid_cnt": (_c("residual_total",
                     "The number of times during a read or write we found the residual amount to "
                     "be non-zero. This should mean that a program is issuing a read larger thean "
                     "the block size on tape. For write not all data made it to tape."), 1),
    "write_byte_cnt": (_c("written_bytes_total",
                          "The number of bytes written to the tape drive."), 1),
    "write_cnt": (_c("writes_completed_total",
                     "The number of write requests issued to the tape drive."), 1),
    "write_ns": (_c("write_time_seconds_total",
                    "The amount of time spent waiting for write requests to complete."), _NS),
}  # fmt: skip


def _is_tape(name: str) -> bool:
    return name.startswith("st") and name[2:].isascii() and name[2:].isdigit()


def parse_tape_stats(device: str, stats: dict[str, str]) -> dict[str, int]:
    """Every file of stats/ parsed (as procfs does); the known ones returned, 0 if absent."""
    values = {
        name: go_uint(text.strip(), f"{TAPES}/{device}/stats/{name}")
        for name, text in stats.items()
    }
    return {name: values.get(name, 0) for name in STATS}


class TapestatsCollector(Collector):
    name = "tapestats"
    specs = tuple(spec for spec, _ in STATS.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        # the class and device directories too: a tape without stats/ is "no data"
        return (TAPES, f"{TAPES}/st*", f"{TAPES}/st*/stats", f"{TAPES}/st*/stats/*")

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        tapes: dict[str, dict[str, str]] = {}
        present: set[str] = set()
        for rest, text in snap.under(TAPES + "/"):
            parts = rest.split("/")
            if not _is_tape(parts[0]):
                continue
            present.add(parts[0])
            if len(parts) == 3 and parts[1] == "stats":
                tapes.setdefault(parts[0], {})[parts[2]] = text
        if snap.file(TAPES) is None and not present:
            raise NoData(TAPES)
        for device in sorted(present):
            if device not in tapes and snap.file(f"{TAPES}/{device}/stats") is None:
                raise NoData(f"{TAPES}/{device}/stats")
            values = parse_tape_stats(device, tapes.get(device, {}))
            for name, (spec, scale) in STATS.items():
                out.add(spec, values[name] * scale, device)


COLLECTORS = [TapestatsCollector]
