"""``metric:`` shorthands: the PromQL of each, and the input series that make it read a value.

Each shorthand knows its expression (with the scope / maintenance matchers put into every
selector), the labels its result keeps, its value range, and a fixture: counters or gauges
that make the expression equal ``before`` until minute ``switch`` and ``after`` from there on
(exactly once the ``lag`` minutes of its range window lie after the switch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Series = list[tuple[str, str]]  # (series selector, promtool values)
Fixture = Callable[[Mapping[str, str], Decimal, Decimal, int, int, int], tuple[Series, Decimal]]

FS_TYPES = 'fstype!~"tmpfs|ramfs|squashfs|overlay"'
FS_LABELS = {"device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}
TOTAL = Decimal(1_000_000_000)  # bytes / files of the test filesystem and memory
PER_MINUTE = Decimal(60)


def num(d: Decimal) -> str:
    """A Decimal as plain text (no exponent): 1000000000, 0.05, -3."""
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def selector(name: str, labels: Mapping[str, str]) -> str:
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{body}}}"


def gauge(before: Decimal, after: Decimal, switch: int, total: int) -> str:
    """``before`` for minutes 0..switch-1, ``after`` from ``switch`` to ``total``."""
    if switch <= 0 or before == after:
        return f"{num(after)}+0x{total}"
    return f"{num(before)}+0x{switch - 1} {num(after)}+0x{total - switch}"


def _step(start: Decimal, inc: Decimal, times: int) -> str:
    sign = "-" if inc < 0 else "+"
    return f"{num(start)}{sign}{num(abs(inc))}x{times}"


def counter(before: Decimal, after: Decimal, switch: int, total: int) -> str:
    """A counter growing ``before`` per minute up to minute ``switch``, ``after`` per minute on."""
    if switch <= 0 or before == after:
        return _step(Decimal(0), after, total)
    first = _step(Decimal(0), before, switch)
    return f"{first} {_step(switch * before + after, after, total - switch - 1)}"


def _m(fixed: Sequence[str], matchers: Sequence[str]) -> str:
    both = [*fixed, *matchers]
    return "{" + ", ".join(both) + "}" if both else ""


@dataclass(frozen=True)
class Shorthand:
    name: str
    expr: Callable[[Sequence[str]], str]
    fixture: Fixture
    lo: Decimal | None = None
    hi: Decimal | None = None
    scale: Decimal = Decimal(1)
    lag: int = 0  # minutes until the value is exact after a switch
    output: tuple[str, ...] | None = None  # labels the result keeps (None: every input label)
    extra: Mapping[str, str] = field(default_factory=dict)  # labels the fixture's series add
    host: bool = True  # the series carry the target labels (deployment, provider, maintenance)
    description: str = ""


def _simple(name: str, extra: Mapping[str, str], kind: str = "gauge") -> Fixture:
    def fixture(
        labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
    ) -> tuple[Series, Decimal]:
        make = gauge if kind == "gauge" else counter
        return [(selector(name, {**labels, **extra}), make(before, after, sw, total))], after

    return fixture


def _cpu(
    labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
) -> tuple[Series, Decimal]:
    idle = counter((1 - before) * PER_MINUTE, (1 - after) * PER_MINUTE, sw, total)
    return [
        (selector("node_cpu_seconds_total", {**labels, "cpu": "0", "mode": "idle"}), idle)
    ], after


def _ratio_of(used_name: str, total_name: str, extra: Mapping[str, str]) -> Fixture:
    """``1 - free / total``: a constant total and the free part as a gauge."""

    def fixture(
        labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
    ) -> tuple[Series, Decimal]:
        lab = {**labels, **extra}
        free = gauge((1 - before) * TOTAL, (1 - after) * TOTAL, sw, total)
        return [
            (selector(used_name, lab), free),
            (selector(total_name, lab), gauge(TOTAL, TOTAL, 0, total)),
        ], after

    return fixture


def _disk_free_in_24h(
    labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
) -> tuple[Series, Decimal]:
    """Flat at ``level`` before the switch, then falling so that the prediction is ``after``."""
    level = max(before, TOTAL)
    minutes = at - sw + 24 * 60
    drop = Decimal(math.ceil((level - after) / minutes)) if after < level else Decimal(0)
    value = level - drop * minutes
    lab = {**labels, **FS_LABELS}
    values = (
        gauge(level, level, 0, total)
        if drop == 0
        else (f"{num(level)}+0x{sw} {_step(level - drop, -drop, total - sw - 1)}")
    )
    return [(selector("node_filesystem_avail_bytes", lab), values)], value


def _load(
    labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
) -> tuple[Series, Decimal]:
    cpu = selector("node_cpu_seconds_total", {**labels, "cpu": "0", "mode": "idle"})
    return [
        (selector("node_load15", labels), gauge(before, after, sw, total)),
        (cpu, counter(PER_MINUTE, PER_MINUTE, 0, total)),
    ], after


def _network_errors(
    labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
) -> tuple[Series, Decimal]:
    lab = {**labels, "device": "eth0"}
    packets = Decimal(60000)
    zero = counter(Decimal(0), Decimal(0), 0, total)
    return [
        (selector("node_network_receive_errs_total", lab),
         counter(before * packets, after * packets, sw, total)),
        (selector("node_network_transmit_errs_total", lab), zero),
        (selector("node_network_receive_packets_total", lab), counter(packets, packets, 0, total)),
        (selector("node_network_transmit_packets_total", lab), zero),
    ], after  # fmt: skip


def _probe_errors(
    labels: Mapping[str, str], before: Decimal, after: Decimal, sw: int, total: int, at: int
) -> tuple[Series, Decimal]:
    probes = Decimal(600)
    lab = {**labels, "module": "ssh"}
    return [
        (selector("fleetwatch_probes_total", {**lab, "outcome": "success"}),
         counter((1 - before) * probes, (1 - after) * probes, sw, total)),
        (selector("fleetwatch_probes_total", {**lab, "outcome": "failure"}),
         counter(before * probes, after * probes, sw, total)),
        (selector("fleetwatch_probe_errors_total", {**lab, "reason": "timeout"}),
         counter(before * probes, after * probes, sw, total)),
    ], after  # fmt: skip


IDLE = 'mode="idle"'
NOT_FLEETWATCH = 'job!="fleetwatch"'
NOT_LO = 'device!="lo"'


def _up(m: Sequence[str]) -> str:
    return f"up{_m([NOT_FLEETWATCH], m)}"


def _cpu_expr(m: Sequence[str]) -> str:
    return (
        "1 - avg by (instance, deployment, provider) "
        f"(rate(node_cpu_seconds_total{_m([IDLE], m)}[5m]))"
    )


def _memory(m: Sequence[str]) -> str:
    return f"1 - node_memory_MemAvailable_bytes{_m([], m)} / node_memory_MemTotal_bytes{_m([], m)}"


def _readonly_excluded(inner: str, m: Sequence[str]) -> str:
    return (
        f"({inner}) unless on(instance, device, mountpoint)"
        f" node_filesystem_readonly{_m([], m)} == 1"
    )


def _disk(m: Sequence[str]) -> str:
    fs = _m([FS_TYPES], m)
    inner = f"1 - node_filesystem_avail_bytes{fs} / node_filesystem_size_bytes{fs}"
    return _readonly_excluded(inner, m)


def _inodes(m: Sequence[str]) -> str:
    fs = _m([FS_TYPES], m)
    return _readonly_excluded(f"1 - node_filesystem_files_free{fs} / node_filesystem_files{fs}", m)


def _disk_fill(m: Sequence[str]) -> str:
    fs = _m([FS_TYPES], m)
    return _readonly_excluded(f"predict_linear(node_filesystem_avail_bytes{fs}[6h], 24 * 3600)", m)


def _load_expr(m: Sequence[str]) -> str:
    return (
        f"node_load15{_m([], m)} / on(instance) group_left()"
        f" count by (instance) (node_cpu_seconds_total{_m([IDLE], m)})"
    )


def _clock_offset(m: Sequence[str]) -> str:
    return f"abs(node_timex_offset_seconds{_m([], m)})"


def _clock_sync(m: Sequence[str]) -> str:
    return f"min_over_time(node_timex_sync_status{_m([], m)}[5m])"


def _net(m: Sequence[str]) -> str:
    d = _m([NOT_LO], m)
    return (
        f"(rate(node_network_receive_errs_total{d}[5m])"
        f" + rate(node_network_transmit_errs_total{d}[5m]))"
        f" / (rate(node_network_receive_packets_total{d}[5m])"
        f" + rate(node_network_transmit_packets_total{d}[5m]))"
    )


def _probes(m: Sequence[str]) -> str:
    return (
        "sum by (instance, job, module, reason)"
        f" (rate(fleetwatch_probe_errors_total{_m([], m)}[5m]))"
        " / on(instance, job, module) group_left()"
        f" sum by (instance, job, module) (rate(fleetwatch_probes_total{_m([], m)}[5m]))"
    )


ZERO, ONE = Decimal(0), Decimal(1)
SHORTHANDS: dict[str, Shorthand] = {
    s.name: s
    for s in (
        Shorthand("up", _up, _simple("up", {}), lo=ZERO, hi=ONE,
                  description="1 when the last probe of the host worked, else 0"),
        Shorthand("cpu", _cpu_expr, _cpu, lo=ZERO, hi=ONE, lag=5,
                  output=("instance", "deployment", "provider"),
                  description="busy share of all cores over 5m (0-1)"),
        Shorthand("memory", _memory,
                  _ratio_of("node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", {}),
                  lo=ZERO, hi=ONE, description="share of memory not available (0-1)"),
        Shorthand("disk", _disk,
                  _ratio_of("node_filesystem_avail_bytes", "node_filesystem_size_bytes",
                            FS_LABELS),
                  lo=ZERO, hi=ONE, extra=FS_LABELS,
                  description="used share of each filesystem (0-1; read-only ones excluded)"),
        Shorthand("inodes", _inodes,
                  _ratio_of("node_filesystem_files_free", "node_filesystem_files", FS_LABELS),
                  lo=ZERO, hi=ONE, extra=FS_LABELS,
                  description="used share of each filesystem's inodes (0-1)"),
        Shorthand("disk_free_in_24h", _disk_fill, _disk_free_in_24h, scale=TOTAL, lag=360,
                  extra=FS_LABELS,
                  description="available bytes predicted in 24h from the last 6h (< 0: full)"),
        Shorthand("load", _load_expr, _load, lo=ZERO,
                  description="15-minute load average per core"),
        Shorthand("clock_offset", _clock_offset, _simple("node_timex_offset_seconds", {}),
                  lo=ZERO, scale=Decimal("0.1"),
                  description="absolute offset of the clock from NTP time, seconds"),
        Shorthand("clock_sync", _clock_sync, _simple("node_timex_sync_status", {}),
                  lo=ZERO, hi=ONE, lag=5,
                  description="0 when the kernel clock was unsynchronised in the last 5m"),
        Shorthand("network_errors", _net, _network_errors, lo=ZERO, hi=ONE, lag=5,
                  extra={"device": "eth0"},
                  description="errored share of each interface's packets over 5m (0-1)"),
        Shorthand("probe_errors", _probes, _probe_errors, lo=ZERO, hi=ONE, lag=5,
                  output=("instance", "job", "module", "reason"), host=False,
                  extra={"module": "ssh", "reason": "timeout"},
                  description="share of the exporter's probes failing, by reason, over 5m"),
    )
}  # fmt: skip
