"""Run collectors over a Snapshot: samples plus node_exporter's per-collector self metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot
from fleetwatch.exporters.module import ProbeResult

log = logging.getLogger(__name__)

SCRAPE_SUCCESS = gauge(
    "node_scrape_collector_success", "node_exporter: Whether a collector succeeded.", "collector"
)
SCRAPE_DURATION = gauge(
    "node_scrape_collector_duration_seconds",
    "node_exporter: Duration of a collector scrape.",
    "collector",
)
RUNNER_SPECS = (SCRAPE_SUCCESS, SCRAPE_DURATION)

# Exceptions a parser raises on text it does not understand.  Anything else is a bug and is
# not swallowed here (the probe layer still keeps it from crashing the server).
_GARBAGE = (ParseError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError)


def run_collectors(
    collectors: Iterable[Collector], snap: Snapshot, opts: Options, target: str = ""
) -> ProbeResult:
    out = Families()
    result = ProbeResult(out)
    for c in collectors:
        mine = Families()
        t0 = time.perf_counter()
        try:
            c.collect(snap, mine, opts)
        except NoData:
            result.absent.append(c.name)
            out.add(SCRAPE_SUCCESS, 0, c.name)
        except _GARBAGE as exc:
            detail = str(exc) if isinstance(exc, ParseError) else f"{type(exc).__name__}: {exc}"
            result.errors[c.name] = detail
            log.warning("target %s: collector %s failed: %s", target, c.name, detail)
            out.add(SCRAPE_SUCCESS, 0, c.name)
        else:
            out.merge(mine)
            out.add(SCRAPE_SUCCESS, 1, c.name)
        out.add(SCRAPE_DURATION, time.perf_counter() - t0, c.name)
    return result
