"""processes (not a default collector): process and thread counts by state from /proc/PID/stat.

    node_processes_state{state="S"} 37
    node_processes_threads_state{thread_state="S"} 59
    node_processes_pids 74

All /proc/PID/stat and /proc/PID/task/TID/stat files are read by the one ``head`` call through
glob patterns.  A process that exits meanwhile is skipped, as node_exporter skips it.
"""

from __future__ import annotations

import re
from collections import Counter

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PROC_STATS = "/proc/[0-9]*/stat"
TASK_STATS = "/proc/[0-9]*/task/[0-9]*/stat"
PID_MAX = "/proc/sys/kernel/pid_max"
THREADS_MAX = "/proc/sys/kernel/threads-max"

THREADS = gauge("node_processes_threads", "Allocated threads in system")
MAX_THREADS = gauge("node_processes_max_threads", "Limit of threads in the system")
STATE = gauge("node_processes_state", "Number of processes in each state.", "state")
THREADS_STATE = gauge(
    "node_processes_threads_state", "Number of threads in each state.", "thread_state"
)
PIDS = gauge("node_processes_pids", "Number of PIDs")
MAX_PROCESSES = gauge("node_processes_max_processes", "Number of max PIDs limit")

_UINT = re.compile(r"^[0-9]+$")
_INT = re.compile(r"^-?[0-9]+$")
# fields after the ")" closing the command name: state is the first, num_threads the 18th
_NUM_THREADS = 17


def parse_pid_stat(text: str, path: str) -> tuple[str, int]:
    """(state, num_threads) of a /proc/PID/stat line; the command name may hold ``)``."""
    close = text.rfind(")")
    if close < 0 or "(" not in text[:close]:
        raise ParseError(path, "no command name in parentheses")
    fields = text[close + 1 :].split()
    if len(fields) <= _NUM_THREADS:
        raise ParseError(path, f"expected at least {_NUM_THREADS + 1} fields after the name")
    state, threads = fields[0], fields[_NUM_THREADS]
    if len(state) != 1 or not state.isalpha() or not _INT.match(threads):
        raise ParseError(path, f"bad state {state[:20]!r} or thread count {threads[:20]!r}")
    return state, int(threads)


def parse_uint(text: str, path: str) -> int:
    value = text.strip()
    if not _UINT.match(value):
        raise ParseError(path, f"not an unsigned integer: {value[:40]!r}")
    return int(value)


def _pid_of(path: str, index: int) -> str | None:
    """The numeric path component at ``index`` (``[0-9]*`` also matches ``1a``)."""
    part = path.split("/")[index]
    return part if part.isascii() and part.isdigit() else None


class ProcessesCollector(Collector):
    name = "processes"
    specs = (THREADS, MAX_THREADS, STATE, THREADS_STATE, PIDS, MAX_PROCESSES)
    default = False

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PROC_STATS, TASK_STATS, PID_MAX, THREADS_MAX)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        limits = {}
        for path in (PID_MAX, THREADS_MAX):
            text = snap.require(path)
            limits[path] = parse_uint(text, path)

        tasks: dict[str, list[tuple[str, str, str]]] = {}
        for path, text in snap.glob(TASK_STATS):
            pid, tid = _pid_of(path, 2), _pid_of(path, 4)
            if pid is not None and tid is not None:
                tasks.setdefault(pid, []).append((tid, path, text))

        states: Counter[str] = Counter()
        thread_states: Counter[str] = Counter()
        pids = threads = 0
        for path, text in snap.glob(PROC_STATS):
            pid = _pid_of(path, 2)
            # empty: the process exited between the shell's glob and head's read
            if pid is None or not text.strip():
                continue
            state, num_threads = parse_pid_stat(text, path)
            pids += 1
            threads += num_threads
            states[state] += 1
            for tid, task_path, task_text in tasks.get(pid, []):
                # node_exporter counts the main thread with the process's own state
                if tid == pid:
                    thread_states[state] += 1
                elif task_text.strip():
                    thread_states[parse_pid_stat(task_text, task_path)[0]] += 1
        if pids == 0:
            raise ParseError(PROC_STATS, "no process readable")

        out.add(THREADS, threads)
        out.add(MAX_THREADS, limits[THREADS_MAX])
        for state, count in states.items():
            out.add(STATE, count, state)
        for state, count in thread_states.items():
            out.add(THREADS_STATE, count, state)
        out.add(PIDS, pids)
        out.add(MAX_PROCESSES, limits[PID_MAX])


COLLECTORS = [ProcessesCollector]
