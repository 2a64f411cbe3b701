"""fleetwatch's own metrics, served on ``/metrics`` (never mixed into a probe's answer)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fleetwatch import __version__
from fleetwatch.exporters.families import Spec, counter, gauge
from fleetwatch.exporters.registry import SERVICE_MODULES

#: reasons counted from the start, so that rate() works before the first failure
KNOWN_REASONS = (
    "timeout",
    "no_answer",
    "no_banner",
    "not_ssh",
    "no_common_algorithm",
    "connection_refused",
    "unreachable",
    "connection_lost",
    "auth_failed",
    "host_key_unknown",
    "host_key_changed",
    "dns",
    "network",
    "bad_output",
    "plan_rejected",
    "internal",
)
#: what most failures of a service module are (``ServiceDown`` reasons), counted from the start
SERVICE_REASONS = ("connect", "auth")


class _PoolCollector(Collector):
    def __init__(
        self,
        modules: list[str],
        pools: Callable[[], dict[str, int]],
        backing_off: Callable[[], dict[str, int]],
    ) -> None:
        self._modules = modules
        self._pools = pools
        self._backing_off = backing_off

    def collect(self) -> Iterator[Metric]:
        fam = GaugeMetricFamily(
            "fleetwatch_pool_connections",
            "Open pooled connections to targets, by module.",
            labels=["module"],
        )
        for module, size in sorted(self._pools().items()):
            fam.add_metric([module], size)
        yield fam
        off = GaugeMetricFamily(
            "fleetwatch_targets_backing_off",
            "Targets whose probes are skipped now after failing the same way again and again.",
            labels=["module"],
        )
        backing = self._backing_off()
        for module in sorted(set(self._modules) | set(backing)):
            off.add_metric([module], backing.get(module, 0))
        yield off
        info = GaugeMetricFamily("fleetwatch_build_info", "fleetwatch version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info


class SelfMetrics:
    def __init__(
        self,
        modules: list[str],
        pools: Callable[[], dict[str, int]],
        backing_off: Callable[[], dict[str, int]] = dict,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.probes = Counter(
            "fleetwatch_probes",
            "Probes by module and outcome (success or failure).",
            ["module", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "fleetwatch_probe_duration_seconds",
            "Duration of probes, by module.",
            ["module"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.errors = Counter(
            "fleetwatch_probe_errors",
            "Failed probes by module and reason.",
            ["module", "reason"],
            registry=self.registry,
        )
        self.collector_errors = Counter(
            "fleetwatch_collector_errors",
            "Collectors (or parts of a probe) that failed while the probe went on, by target "
            "(inventory targets only) and collector; a source absent on the target is no error.",
            ["module", "target", "collector"],
            registry=self.registry,
        )
        self.skipped = Counter(
            "fleetwatch_probes_skipped",
            "Probes not run because the target keeps failing the same way (backoff).",
            ["module"],
            registry=self.registry,
        )
        self.registry.register(_PoolCollector(list(modules), pools, backing_off))
        ProcessCollector(registry=self.registry)
        for module in modules:  # every known series from the first scrape, so rate() works
            self.duration.labels(module)
            self.skipped.labels(module)
            for outcome in ("success", "failure"):
                self.probes.labels(module, outcome)
            for reason in KNOWN_REASONS:
                self.errors.labels(module, reason)
            if module in SERVICE_MODULES:
                for reason in SERVICE_REASONS:
                    self.errors.labels(module, reason)


def self_specs() -> list[Spec]:
    """The families served on the exporter's own ``/metrics`` (for the metric catalog)."""
    return [
        counter("fleetwatch_probes_total", "Probes by module and outcome.", "module", "outcome"),
        Spec(
            "fleetwatch_probe_duration_seconds",
            "histogram",
            "Duration of probes, by module.",
            ("module",),
        ),
        counter("fleetwatch_probe_errors_total", "Failed probes.", "module", "reason"),
        counter(
            "fleetwatch_collector_errors_total",
            "Failed collectors.",
            "module",
            "target",
            "collector",
        ),
        gauge("fleetwatch_pool_connections", "Open pooled connections.", "module"),
        gauge("fleetwatch_targets_backing_off", "Targets in backoff.", "module"),
        counter("fleetwatch_probes_skipped_total", "Probes skipped by backoff.", "module"),
        gauge("fleetwatch_build_info", "fleetwatch version.", "version"),
        gauge("process_resident_memory_bytes", "Resident memory size in bytes."),
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes."),
        counter("process_cpu_seconds_total", "Total user and system CPU time in seconds."),
        gauge("process_start_time_seconds", "Start time of the process since unix epoch."),
        gauge("process_open_fds", "Number of open file descriptors."),
        gauge("process_max_fds", "Maximum number of open file descriptors."),
    ]
