"""The exporter's own CPU per host probe, without SSH: one answer of the perl session on this
machine, captured once, then parsed, collected and rendered over and over.

Prints (never asserts) microseconds per probe for each stage and the costliest collectors.
This is the part of a probe that runs on the exporter's one Python thread: it bounds how many
probes per second one exporter process can serve.

Usage: python -m benchmarks.exporter_cpu [--rounds 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from fleetwatch.exporters.host.agent import PERL_AGENT, request
from fleetwatch.exporters.host.collectors import select
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.runner import Memo, run_collectors
from fleetwatch.exporters.host.script import make_plan, marker, parse_output

NONCE = "benchnonce0001"


def capture(count: int) -> list[str]:
    """``count`` answers of the perl session, run here as the SSH session would run it, a
    tenth of a second apart (counters move between them, as between real probes)."""
    plan = make_plan(select([], []), Options())
    proc = subprocess.Popen(
        ["perl", "-e", PERL_AGENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    answers = []
    try:
        for i in range(count):
            proc.stdin.write(request("perl", plan, NONCE, stored=i > 0))
            proc.stdin.flush()
            data = b""
            end = f"\n{marker(NONCE)}end\n".encode()
            while end not in data:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    raise SystemExit("the perl session ended without an answer")
                data += chunk
            answers.append(data.decode())
            time.sleep(0.1)
        return answers
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    answers = capture(10)
    memo: Memo = {}  # one target's, as the module keeps it
    collectors = select([], [])
    opts = Options()
    stages: dict[str, list[float]] = {"parse": [], "collect": [], "render": []}
    per: dict[str, list[float]] = {}
    samples = 0
    for i in range(args.rounds + 50):
        raw = answers[i % len(answers)]
        t0 = time.thread_time()
        snap = parse_output(raw, NONCE)
        t1 = time.thread_time()
        result = run_collectors(collectors, snap, opts, "bench", memo)
        t2 = time.thread_time()
        body = result.families.render()
        t3 = time.thread_time()
        if i < 50:  # warm-up: caches filled as on a long-running exporter
            continue
        stages["parse"].append(t1 - t0)
        stages["collect"].append(t2 - t1)
        stages["render"].append(t3 - t2)
        samples = len(result.families)
        # each collector's own time, as node_exporter's self metric reports it
        for labels, seconds in result.families.samples("node_scrape_collector_duration_seconds"):
            per.setdefault(labels["collector"], []).append(seconds)
    # medians: this VM's speed drifts, and a rare slow round says nothing about the code
    mid = {k: statistics.median(v) for k, v in stages.items()}
    own = {k: statistics.median(v) for k, v in per.items()}
    print(
        f"exporter CPU per probe, no SSH ({len(raw)} bytes in, {samples} samples, "
        f"{len(body)} bytes out): median {sum(mid.values()) * 1e6:.0f} us"
    )
    print("  " + ", ".join(f"{k} {v * 1e6:.0f} us" for k, v in mid.items()))
    top = sorted(own.items(), key=lambda kv: -kv[1])[: args.top]
    print(
        f"  collectors' own time {sum(own.values()) * 1e6:.0f} us; costliest: "
        + ", ".join(f"{k} {v * 1e6:.0f}" for k, v in top)
        + " (us)"
    )


if __name__ == "__main__":
    main()
