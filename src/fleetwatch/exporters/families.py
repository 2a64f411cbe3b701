"""Metric families as collectors declare and emit them, independent of any transport.

A ``Spec`` declares a family (exposed name, type, help, label names): the catalog that
``fleetwatch modules --metrics`` prints and that validation checks dashboard queries against.
A ``Families`` collects samples for declared specs during one probe and renders them with
prometheus_client.  Counter names are the exposed ones (``node_cpu_seconds_total``); families
whose standard name has no ``_total`` are declared ``untyped`` or ``gauge`` as the standard
exporter does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

MetricType = Literal["counter", "gauge", "untyped", "info", "histogram", "summary"]


@dataclass(frozen=True)
class Spec:
    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()

    @property
    def sample_names(self) -> tuple[str, ...]:
        """The names this family's samples carry in the exposition."""
        if self.type == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        if self.type == "summary":
            return (self.name, f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)

    @property
    def family_name(self) -> str:
        """The name prometheus_client wants for the family (counters without ``_total``)."""
        if self.type == "counter" and self.name.endswith("_total"):
            return self.name[: -len("_total")]
        return self.name


def gauge(name: str, help: str, *labels: str) -> Spec:
    return Spec(name, "gauge", help, labels)


def counter(name: str, help: str, *labels: str) -> Spec:
    return Spec(name, "counter", help, labels)


def untyped(name: str, help: str, *labels: str) -> Spec:
    return Spec(name, "untyped", help, labels)


@dataclass
class _Family:
    spec: Spec
    samples: dict[tuple[str, ...], float] = field(default_factory=dict)


class Families(Collector):
    """Samples gathered in one probe; a prometheus_client collector for exposition."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def add(self, spec: Spec, value: float, *labelvalues: str) -> None:
        """Record one sample.  Label values follow ``spec.labels``; the last write wins."""
        if len(labelvalues) != len(spec.labels):
            raise ValueError(f"{spec.name}: expected labels {spec.labels}, got {labelvalues}")
        fam = self._families.get(spec.name)
        if fam is None:
            fam = self._families[spec.name] = _Family(spec)
        fam.samples[labelvalues] = float(value)

    def merge(self, other: Families) -> None:
        for name, fam in other._families.items():
            mine = self._families.get(name)
            if mine is None:
                self._families[name] = fam
            else:
                mine.samples.update(fam.samples)

    def names(self) -> set[str]:
        return set(self._families)

    def get(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Value of one sample (for tests and the CLI); ``None`` when absent."""
        fam = self._families.get(name)
        if fam is None:
            return None
        key = tuple((labels or {}).get(label, "") for label in fam.spec.labels)
        return fam.samples.get(key)

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        fam = self._families.get(name)
        if fam is None:
            return []
        return [(dict(zip(fam.spec.labels, k, strict=True)), v) for k, v in fam.samples.items()]

    def __len__(self) -> int:
        return sum(len(f.samples) for f in self._families.values())

    def render(self) -> bytes:
        """The text exposition format 0.0.4, byte-identical to prometheus_client's
        ``generate_latest(self)`` but without building a Metric and Sample per value: a
        probe has hundreds of samples and this is on the hot path of every scrape.  Series
        names with their labels, and formatted values, are cached across probes (a fleet
        repeats them: cpu="0", device="eth0", 0, 1)."""
        out: list[str] = []
        for name in sorted(self._families):
            fam = self._families[name]
            spec = fam.spec
            head = _HEADS.get(spec)
            if head is None:
                head = _HEADS[spec] = _head(spec)
            out.append(head)
            prefixes = _PREFIXES.get(spec)
            if prefixes is None or len(prefixes) > _CACHE_MAX:
                prefixes = _PREFIXES[spec] = {}
            samples = fam.samples
            for key in sorted(samples):
                prefix = prefixes.get(key)
                if prefix is None:
                    prefix = prefixes[key] = _prefix(spec, key)
                value = samples[key]
                text = _VALUES.get(value) if value else _zero(value)
                if text is None:
                    text = _format_value(value)
                out.append(f"{prefix}{text}\n")
        return "".join(out).encode("utf-8")

    def collect(self) -> Iterator[Metric]:
        for name in sorted(self._families):
            fam = self._families[name]
            spec = fam.spec
            typ = "unknown" if spec.type == "untyped" else spec.type
            metric = Metric(spec.family_name, spec.help, typ)
            labels = spec.labels
            for key in sorted(fam.samples):
                metric.add_sample(spec.name, dict(zip(labels, key, strict=True)), fam.samples[key])
            yield metric


_CACHE_MAX = 50_000
_HEADS: dict[Spec, str] = {}
_PREFIXES: dict[Spec, dict[tuple[str, ...], str]] = {}
_VALUES: dict[float, str] = {}


def _head(spec: Spec) -> str:
    return f"# HELP {spec.name} {_escape_help(spec.help)}\n# TYPE {spec.name} {spec.type}\n"


def _prefix(spec: Spec, key: tuple[str, ...]) -> str:
    """``name{a="x",b="y"} `` with label names sorted, as prometheus_client writes them."""
    labels = spec.labels
    if not labels:
        return f"{spec.name} "
    order = sorted(range(len(labels)), key=labels.__getitem__)
    pairs = ",".join(f'{labels[i]}="{_escape_label(key[i])}"' for i in order)
    return f"{spec.name}{{{pairs}}} "


def _zero(value: float) -> str | None:
    # 0.0 and -0.0 are one dict key but two texts; NaN (falsy never: it is truthy) not here
    return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"


def _format_value(value: float) -> str:
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    if value == value:  # NaN never equals itself, so never hits: keep it out
        if len(_VALUES) > _CACHE_MAX:
            _VALUES.clear()
        _VALUES[value] = text
    return text


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def catalog(specs: Iterable[Spec]) -> list[Spec]:
    """Deduplicated, sorted catalog of specs."""
    seen: dict[str, Spec] = {}
    for spec in specs:
        seen.setdefault(spec.name, spec)
    return [seen[k] for k in sorted(seen)]
