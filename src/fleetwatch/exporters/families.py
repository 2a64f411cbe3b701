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

from prometheus_client.core import HistogramMetricFamily, Metric
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


def histogram(name: str, help: str, *labels: str) -> Spec:
    """A histogram family: samples ``<name>_bucket{le}``, ``<name>_count``, ``<name>_sum``."""
    return Spec(name, "histogram", help, labels)


#: one histogram: cumulative (le text, count) pairs ending with "+Inf", and the sum
HistogramValue = tuple[tuple[tuple[str, float], ...], float]


@dataclass
class _Family:
    spec: Spec
    samples: dict[tuple[str, ...], float] = field(default_factory=dict)
    histograms: dict[tuple[str, ...], HistogramValue] = field(default_factory=dict)


class Families(Collector):
    """Samples gathered in one probe; a prometheus_client collector for exposition."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def add_histogram(
        self,
        spec: Spec,
        buckets: Iterable[tuple[float, float]],
        total: float,
        *labelvalues: str,
    ) -> None:
        """Record one histogram: cumulative (upper bound, count) pairs, the last one +Inf (its
        count is the ``_count``), and the sum of the observations."""
        if spec.type != "histogram" or len(labelvalues) != len(spec.labels):
            raise ValueError(f"{spec.name}: not a histogram with labels {spec.labels}")
        pairs = tuple((_le(bound), float(n)) for bound, n in buckets)
        if not pairs or pairs[-1][0] != "+Inf":
            raise ValueError(f"{spec.name}: the last bucket must be +Inf")
        fam = self._families.get(spec.name)
        if fam is None:
            fam = self._families[spec.name] = _Family(spec)
        fam.histograms[labelvalues] = (pairs, float(total))

    def add(self, spec: Spec, value: float, *labelvalues: str) -> None:
        """Record one sample.  Label values follow ``spec.labels``; the last write wins."""
        if spec.type == "histogram":
            raise ValueError(f"{spec.name}: a histogram takes add_histogram()")
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
                mine.histograms.update(fam.histograms)

    def names(self) -> set[str]:
        return set(self._families)

    def get(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Value of one sample by its exposed name (``x_bucket`` with ``le`` for a histogram
        bucket); ``None`` when absent.  Labels not given are ""; others are ignored."""
        wanted = labels or {}
        fam = self._families.get(name)
        if fam is not None and fam.spec.type != "histogram":
            return fam.samples.get(tuple(wanted.get(label, "") for label in fam.spec.labels))
        for labelset, value in self.samples(name):
            if all(wanted.get(k, "") == v for k, v in labelset.items()):
                return value
        return None

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Every sample of one exposed name, with its labels."""
        fam = self._families.get(name)
        if fam is not None and fam.spec.type != "histogram":
            return [(dict(zip(fam.spec.labels, k, strict=True)), v) for k, v in fam.samples.items()]
        base, _, suffix = name.rpartition("_")
        fam = self._families.get(base)
        if fam is None or fam.spec.type != "histogram":
            return []
        out: list[tuple[dict[str, str], float]] = []
        for key, (pairs, total) in fam.histograms.items():
            labels = dict(zip(fam.spec.labels, key, strict=True))
            if suffix == "bucket":
                out += [({**labels, "le": le}, n) for le, n in pairs]
            elif suffix == "count":
                out.append((labels, pairs[-1][1]))
            elif suffix == "sum":
                out.append((labels, total))
        return out

    def __len__(self) -> int:
        return sum(
            len(f.samples) + sum(len(p) + 2 for p, _ in f.histograms.values())
            for f in self._families.values()
        )

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
            head = _HEADS.get(name)
            if head is None or head[0] is not spec:
                head = _HEADS[name] = (spec, _head(spec))
            out.append(head[1])
            if spec.type == "histogram":
                _render_histograms(spec, fam.histograms, out)
                continue
            cached = _PREFIXES.get(name)
            if cached is None or cached[0] is not spec or len(cached[1]) > _CACHE_MAX:
                cached = _PREFIXES[name] = (spec, {})
            prefixes = cached[1]
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
            if spec.type == "histogram":
                hist = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
                for key in sorted(fam.histograms):
                    pairs, total = fam.histograms[key]
                    hist.add_metric(list(key), list(pairs), total)
                yield hist
                continue
            typ = "unknown" if spec.type == "untyped" else spec.type
            metric = Metric(spec.family_name, spec.help, typ)
            labels = spec.labels
            for key in sorted(fam.samples):
                metric.add_sample(spec.name, dict(zip(labels, key, strict=True)), fam.samples[key])
            yield metric


def _le(bound: float) -> str:
    text: str = "+Inf" if bound == math.inf else floatToGoString(bound)  # type: ignore[no-untyped-call]
    return text


def _render_histograms(
    spec: Spec, histograms: dict[tuple[str, ...], HistogramValue], out: list[str]
) -> None:
    # as generate_latest writes a HistogramMetricFamily: per label set, the buckets, _count
    # (the +Inf bucket), _sum; label names sorted, ``le`` among them
    bucket = Spec(f"{spec.name}_bucket", "untyped", "", (*spec.labels, "le"))
    count = Spec(f"{spec.name}_count", "untyped", "", spec.labels)
    total = Spec(f"{spec.name}_sum", "untyped", "", spec.labels)
    for key in sorted(histograms):
        pairs, value = histograms[key]
        for le, n in pairs:
            out.append(f"{_prefix(bucket, (*key, le))}{_text(n)}\n")
        out.append(f"{_prefix(count, key)}{_text(pairs[-1][1])}\n")
        out.append(f"{_prefix(total, key)}{_text(value)}\n")


def _text(value: float) -> str:
    text = _VALUES.get(value) if value else _zero(value)
    return text if text is not None else _format_value(value)


_CACHE_MAX = 50_000
# keyed by family name (a str hashes once; a frozen dataclass hashes its fields every time),
# valid for the very Spec object that made them
_HEADS: dict[str, tuple[Spec, str]] = {}
_PREFIXES: dict[str, tuple[Spec, dict[tuple[str, ...], str]]] = {}
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
