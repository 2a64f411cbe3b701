"""edac: memory controller error counters of /sys/devices/system/edac/mc/mc<N>/.

    node_edac_correctable_errors_total{controller="0"} 1
    node_edac_csrow_correctable_errors_total{controller="0",csrow="unknown"} 2
    node_edac_csrow_uncorrectable_errors_total{controller="0",csrow="0"} 4

No controller (most virtual machines): nothing is emitted, successfully.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, counter
from fleetwatch.exporters.host.collectors._sysfs import uint
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

MC = "/sys/devices/system/edac/mc"
CE = counter("node_edac_correctable_errors_total", "Total correctable memory errors.", "controller")
UE = counter(
    "node_edac_uncorrectable_errors_total", "Total uncorrectable memory errors.", "controller"
)
CSROW_CE = counter(
    "node_edac_csrow_correctable_errors_total",
    "Total correctable memory errors for this csrow.",
    "controller",
    "csrow",
)
CSROW_UE = counter(
    "node_edac_csrow_uncorrectable_errors_total",
    "Total uncorrectable memory errors for this csrow.",
    "controller",
    "csrow",
)
_CONTROLLER_FILES = ("ce_count", "ce_noinfo_count", "ue_count", "ue_noinfo_count")


def _count(files: dict[str, str], path: str) -> int:
    text = files.get(path)
    if text is None:
        raise ParseError(path, "not readable")
    return uint(text.strip(), path)


def parse_edac(
    files: dict[str, str],
) -> list[tuple[str, dict[str, int], dict[str, tuple[int, int]]]]:
    """(controller, its four counts, {csrow: (ce, ue)}) for each mc<N> found in ``files``."""
    controllers = sorted(
        {p[len(MC) + 1 :].split("/")[0] for p in files if p.startswith(MC + "/mc")}
    )
    out = []
    for mc in controllers:
        base = f"{MC}/{mc}"
        counts = {name: _count(files, f"{base}/{name}") for name in _CONTROLLER_FILES}
        rows = sorted(
            {p[len(base) + 1 :].split("/")[0] for p in files if p.startswith(base + "/csrow")}
        )
        csrows = {
            row.removeprefix("csrow"): (
                _count(files, f"{base}/{row}/ce_count"),
                _count(files, f"{base}/{row}/ue_count"),
            )
            for row in rows
        }
        out.append((mc.removeprefix("mc"), counts, csrows))
    return out


class EdacCollector(Collector):
    name = "edac"
    specs = (CE, UE, CSROW_CE, CSROW_UE)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (
            *(f"{MC}/mc[0-9]*/{name}" for name in _CONTROLLER_FILES),
            f"{MC}/mc[0-9]*/csrow[0-9]*/ce_count",
            f"{MC}/mc[0-9]*/csrow[0-9]*/ue_count",
        )

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...]:
        return tuple(snap.under(MC + "/"))

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        files = {f"{MC}/{rest}": text for rest, text in snap.under(MC + "/")}
        for mc, counts, csrows in parse_edac(files):
            out.add(CE, counts["ce_count"], mc)
            out.add(CSROW_CE, counts["ce_noinfo_count"], mc, "unknown")
            out.add(UE, counts["ue_count"], mc)
            out.add(CSROW_UE, counts["ue_noinfo_count"], mc, "unknown")
            for row, (ce, ue) in csrows.items():
                out.add(CSROW_CE, ce, mc, row)
                out.add(CSROW_UE, ue, mc, row)


COLLECTORS = [EdacCollector]
