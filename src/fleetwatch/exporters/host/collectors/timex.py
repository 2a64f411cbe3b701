"""timex: the kernel's NTP state from adjtimex(2), read by a python3 one-liner on the host.

    node_timex_sync_status 0
    node_timex_maxerror_seconds 16
    node_timex_tick_seconds 0.01

There is no file for it.  The snippet calls libc's adjtimex through ctypes (modes 0: read
only, no privilege needed) and prints the raw struct timex fields; the units are converted
here exactly as node_exporter's timex collector does.  A host without python3 prints
``no python3`` and only this collector fails.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.script_vars import ARCH_VAR
from fleetwatch.exporters.host.snapshot import Snapshot

CMD = "timex"
NO_PYTHON = "no perl or python3"
TIME_ERROR = 5  # adjtimex's return value when the clock is not synchronized
STA_NANO = 0x2000  # offset and jitter are in ns instead of us
MICRO = 1_000_000.0
NANO = 1_000_000_000.0
PPM16 = 1_000_000.0 * 65536.0  # freq, ppsfreq, stabil: ppm with a 16-bit fraction

# Linux struct timex (include/uapi/linux/timex.h); ctypes gives it the C alignment of the
# host's ABI.  The trailing padding keeps the kernel from writing past the buffer.
PYTHON = """import ctypes as C
L = C.c_long
I = C.c_int
F = [("modes", I), ("offset", L), ("freq", L), ("maxerror", L), ("esterror", L),
     ("status", I), ("constant", L), ("precision", L), ("tolerance", L),
     ("time_sec", L), ("time_usec", L), ("tick", L), ("ppsfreq", L), ("jitter", L),
     ("shift", I), ("stabil", L), ("jitcnt", L), ("calcnt", L), ("errcnt", L),
     ("stbcnt", L), ("tai", I)]
T = type("T", (C.Structure,), {"_fields_": F + [("pad", I * 11)]})
t = T()
f = C.CDLL(None, use_errno=True).adjtimex
f.argtypes = [C.POINTER(T)]
r = f(C.byref(t))
if r < 0:
    print("errno", C.get_errno())
else:
    print("state", r)
    for n, _ in F:
        print(n, getattr(t, n))
"""
# The same read through perl's syscall(), about 4x cheaper to start than python3 (perl-base is
# essential on Debian and Ubuntu).  Only for LP64 Linux ABIs whose adjtimex number is known:
# struct timex is then ints padded to 8 bytes between 64-bit longs, 208 bytes in all.
PERL = (
    'my $b = "\\0" x 256; my $r = syscall($ARGV[0], $b); '
    'if ($r < 0) { print "errno ", $! + 0, "\\n"; exit } print "state $r\\n"; '
    'my @v = unpack("i x4 q4 i x4 q3 q2 q3 i x4 q5 i", $b); '
    "my @n = qw(modes offset freq maxerror esterror status constant precision tolerance "
    "time_sec time_usec tick ppsfreq jitter shift stabil jitcnt calcnt errcnt stbcnt tai); "
    'for my $i (0 .. $#n) { print "$n[$i] $v[$i]\\n" }'
)
SNIPPET = (
    f'case "${ARCH_VAR}" in x86_64) nr=159;; aarch64|riscv64|loongarch64) nr=171;; *) nr=;; esac\n'
    'if [ -n "$nr" ] && command -v perl >/dev/null 2>&1; then perl -e \'' + PERL + '\' "$nr"\n'
    "elif command -v python3 >/dev/null 2>&1; then python3 -I -S -c '"
    + PYTHON
    + f"'\nelse echo '{NO_PYTHON}'; fi"
)

SYNC_STATUS = gauge(
    "node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no)."
)
OFFSET = gauge(
    "node_timex_offset_seconds", "Time offset in between local system and reference clock."
)
FREQ = gauge("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.")
MAXERROR = gauge("node_timex_maxerror_seconds", "Maximum error in seconds.")
ESTERROR = gauge("node_timex_estimated_error_seconds", "Estimated error in seconds.")
STATUS = gauge("node_timex_status", "Value of the status array bits.")
CONSTANT = gauge("node_timex_loop_time_constant", "Phase-locked loop time constant.")
TICK = gauge("node_timex_tick_seconds", "Seconds between clock ticks.")
PPS_FREQ = gauge("node_timex_pps_frequency_hertz", "Pulse per second frequency.")
PPS_JITTER = gauge("node_timex_pps_jitter_seconds", "Pulse per second jitter.")
PPS_SHIFT = gauge("node_timex_pps_shift_seconds", "Pulse per second interval duration.")
PPS_STABIL = gauge(
    "node_timex_pps_stability_hertz",
    "Pulse per second stability, average of recent frequency changes.",
)
PPS_JITCNT = counter(
    "node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events."
)
PPS_CALCNT = counter(
    "node_timex_pps_calibration_total", "Pulse per second count of calibration intervals."
)
PPS_ERRCNT = counter("node_timex_pps_error_total", "Pulse per second count of calibration errors.")
PPS_STBCNT = counter(
    "node_timex_pps_stability_exceeded_total",
    "Pulse per second count of stability limit exceeded events.",
)
TAI = gauge("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.")

FIELDS = (
    "state", "offset", "freq", "maxerror", "esterror", "status", "constant", "tick",
    "ppsfreq", "jitter", "shift", "stabil", "jitcnt", "calcnt", "errcnt", "stbcnt", "tai",
)  # fmt: skip


def parse_timex(text: str) -> dict[str, int]:
    """The raw fields the snippet printed (``state`` is adjtimex's return value)."""
    if text.strip() == NO_PYTHON:
        raise ParseError("timex", "neither perl nor python3 is available on the host")
    raw: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "errno":
            raise ParseError("timex", f"adjtimex failed with errno {value}")
        try:
            raw[key] = int(value)
        except ValueError:
            raise ParseError("timex", f"unexpected line {line[:80]!r}") from None
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        raise ParseError("timex", f"missing fields {', '.join(missing)}")
    return raw


def timex_values(raw: dict[str, int]) -> list[tuple[Spec, float]]:
    divisor = NANO if raw["status"] & STA_NANO else MICRO
    return [
        (SYNC_STATUS, 0.0 if raw["state"] == TIME_ERROR else 1.0),
        (OFFSET, raw["offset"] / divisor),
        (FREQ, 1 + raw["freq"] / PPM16),
        (MAXERROR, raw["maxerror"] / MICRO),
        (ESTERROR, raw["esterror"] / MICRO),
        (STATUS, float(raw["status"])),
        (CONSTANT, float(raw["constant"])),
        (TICK, raw["tick"] / MICRO),
        (PPS_FREQ, raw["ppsfreq"] / PPM16),
        (PPS_JITTER, raw["jitter"] / divisor),
        (PPS_SHIFT, float(raw["shift"])),
        (PPS_STABIL, raw["stabil"] / PPM16),
        (PPS_JITCNT, float(raw["jitcnt"])),
        (PPS_CALCNT, float(raw["calcnt"])),
        (PPS_ERRCNT, float(raw["errcnt"])),
        (PPS_STBCNT, float(raw["stbcnt"])),
        (TAI, float(raw["tai"])),
    ]


class TimexCollector(Collector):
    name = "timex"
    specs = (
        SYNC_STATUS, OFFSET, FREQ, MAXERROR, ESTERROR, STATUS, CONSTANT, TICK, PPS_FREQ,
        PPS_JITTER, PPS_SHIFT, PPS_STABIL, PPS_JITCNT, PPS_CALCNT, PPS_ERRCNT, PPS_STBCNT, TAI,
    )  # fmt: skip

    def commands(self, opts: Options) -> dict[str, str]:
        return {CMD: SNIPPET}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.command(CMD)
        if text is None:
            raise ParseError("timex", "no output")
        for spec, value in timex_values(parse_timex(text)):
            out.add(spec, value)


COLLECTORS = [TimexCollector]
