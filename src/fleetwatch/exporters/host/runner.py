"""Run collectors over a Snapshot: samples plus node_exporter's per-collector self metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.paths import host_view
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


@dataclass
class _Outcome:
    """What one collector gave for some inputs: its samples, or NoData, or an error."""

    inputs: tuple[object, ...]
    opts: Options
    samples: Families
    absent: bool = False
    error: str | None = None


#: collector name -> its last outcome, for one target (see Collector.inputs)
Memo = dict[str, _Outcome]


def run_collectors(
    collectors: Iterable[Collector],
    snap: Snapshot,
    opts: Options,
    target: str = "",
    memo: Memo | None = None,
) -> ProbeResult:
    """Run every collector over one snapshot.  With a ``memo`` (one per target, kept across
    probes), a collector whose ``inputs`` equal the last probe's gives that probe's outcome
    again without parsing."""
    snap = host_view(snap, opts)
    out = Families()
    result = ProbeResult(out)
    for c in collectors:
        t0 = time.perf_counter()
        inputs = c.inputs(snap, opts) if memo is not None else None
        last = memo.get(c.name) if memo is not None and inputs is not None else None
        if last is not None and last.inputs == inputs and last.opts == opts:
            outcome = last
        else:
            outcome = _collect(c, snap, opts)
            if memo is not None and inputs is not None:
                outcome.inputs = inputs
                memo[c.name] = outcome
        if outcome.absent:
            result.absent.append(c.name)
            out.add(SCRAPE_SUCCESS, 0, c.name)
        elif outcome.error is not None:
            result.errors[c.name] = outcome.error
            log.warning("target %s: collector %s failed: %s", target, c.name, outcome.error)
            out.add(SCRAPE_SUCCESS, 0, c.name)
        else:
            if inputs is None:
                out.merge(outcome.samples)
            else:  # the memo keeps its copy: never let a later merge write into it
                out.merge_copy(outcome.samples)
            out.add(SCRAPE_SUCCESS, 1, c.name)
        out.add(SCRAPE_DURATION, time.perf_counter() - t0, c.name)
    return result


def _collect(c: Collector, snap: Snapshot, opts: Options) -> _Outcome:
    mine = Families()
    try:
        c.collect(snap, mine, opts)
    except NoData:
        return _Outcome((), opts, Families(), absent=True)
    except _GARBAGE as exc:
        detail = str(exc) if isinstance(exc, ParseError) else f"{type(exc).__name__}: {exc}"
        return _Outcome((), opts, Families(), error=detail)
    return _Outcome((), opts, mine)
