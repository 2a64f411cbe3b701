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
from dataclasses import dataclass
from math import copysign
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


class Families(Collector):
    """Samples gathered in one probe; a prometheus_client collector for exposition.

    Kept as plain dicts keyed by family name (a probe adds hundreds of samples to a few
    hundred families: no object per family on this path)."""

    def __init__(self) -> None:
        self._specs: dict[str, Spec] = {}
        #: family name -> label values -> value (every family, histograms with none)
        self._samples: dict[str, dict[tuple[str, ...], float]] = {}
        #: histogram family name -> label values -> (buckets, sum)
        self._histograms: dict[str, dict[tuple[str, ...], HistogramValue]] = {}

    def _family(self, spec: Spec) -> dict[tuple[str, ...], float]:
        samples = self._samples.get(spec.name)
        if samples is None:
            samples = self._samples[spec.name] = {}
            self._specs[spec.name] = spec
        return samples

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
        self._family(spec)
        self._histograms.setdefault(spec.name, {})[labelvalues] = (pairs, float(total))

    def add(self, spec: Spec, value: float, *labelvalues: str) -> None:
        """Record one sample.  Label values follow ``spec.labels``; the last write wins."""
        if spec.type == "histogram":
            raise ValueError(f"{spec.name}: a histogram takes add_histogram()")
        samples = self._samples.get(spec.name)
        if samples is None:
            samples = self._samples[spec.name] = {}
            self._specs[spec.name] = spec
        if len(labelvalues) != len(spec.labels):
            raise ValueError(f"{spec.name}: expected labels {spec.labels}, got {labelvalues}")
        samples[labelvalues] = float(value)

    def merge(self, other: Families) -> None:
        """Take ``other``'s samples (its families are adopted, not copied: ``other`` is done)."""
        mine = self._samples
        for name, samples in other._samples.items():
            have = mine.get(name)
            if have is None:
                mine[name] = samples
                self._specs[name] = other._specs[name]
            else:
                have.update(samples)
        for name, hists in other._histograms.items():
            self._histograms.setdefault(name, {}).update(hists)

    def merge_copy(self, other: Families) -> None:
        """Take ``other``'s samples, leaving ``other`` untouched (it is kept for later)."""
        mine = self._samples
        for name, samples in other._samples.items():
            have = mine.get(name)
            if have is None:
                mine[name] = dict(samples)
                self._specs[name] = other._specs[name]
            else:
                have.update(samples)
        for name, hists in other._histograms.items():
            self._histograms.setdefault(name, {}).update(hists)

    def names(self) -> set[str]:
        return set(self._samples)

    def get(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Value of one sample by its exposed name (``x_bucket`` with ``le`` for a histogram
        bucket); ``None`` when absent.  Labels not given are ""; others are ignored."""
        wanted = labels or {}
        spec = self._specs.get(name)
        if spec is not None and spec.type != "histogram":
            return self._samples[name].get(tuple(wanted.get(label, "") for label in spec.labels))
        for labelset, value in self.samples(name):
            if all(wanted.get(k, "") == v for k, v in labelset.items()):
                return value
        return None

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Every sample of one exposed name, with its labels."""
        spec = self._specs.get(name)
        if spec is not None and spec.type != "histogram":
            names = spec.labels
            return [(dict(zip(names, k, strict=True)), v) for k, v in self._samples[name].items()]
        base, _, suffix = name.rpartition("_")
        spec = self._specs.get(base)
        if spec is None or spec.type != "histogram":
            return []
        out: list[tuple[dict[str, str], float]] = []
        for key, (pairs, total) in self._histograms.get(base, {}).items():
            labels = dict(zip(spec.labels, key, strict=True))
            if suffix == "bucket":
                out += [({**labels, "le": le}, n) for le, n in pairs]
            elif suffix == "count":
                out.append((labels, pairs[-1][1]))
            elif suffix == "sum":
                out.append((labels, total))
        return out

    def __len__(self) -> int:
        return sum(len(s) for s in self._samples.values()) + sum(
            len(p) + 2 for h in self._histograms.values() for p, _ in h.values()
        )

    def render(self) -> bytes:
        """The text exposition format 0.0.4, byte-identical to prometheus_client's
        ``generate_latest(self)`` but without building a Metric and Sample per value: a
        probe has hundreds of samples and this is on the hot path of every scrape.  Series
        names with their labels, and formatted values, are cached across probes (a fleet
        repeats them: cpu="0", device="eth0", 0, 1)."""
        out: list[str] = []
        append = out.append
        specs = self._specs
        values_get = _VALUES.get
        for name in sorted(self._samples):
            spec = specs[name]
            head = _HEADS.get(name)
            if head is None or (head[0] is not spec and head[0] != spec):
                head = _HEADS[name] = (spec, _head(spec))
            append(head[1])
            if spec.type == "histogram":
                _render_histograms(spec, self._histograms.get(name, {}), out)
                continue
            cached = _PREFIXES.get(name)
            if (
                cached is None
                or (cached[0] is not spec and cached[0] != spec)  # equal specs share them
                or len(cached[1]) > _CACHE_MAX
            ):
                cached = _PREFIXES[name] = (spec, {})
            prefixes = cached[1]
            samples = self._samples[name]
            for key in sorted(samples) if len(samples) > 1 else samples:
                prefix = prefixes.get(key)
                if prefix is None:
                    prefix = prefixes[key] = _prefix(spec, key)
                value = samples[key]
                if value:
                    text = values_get(value)
                    if text is None:
                        text = _format_value(value)
                else:  # 0.0 and -0.0 are one dict key but two texts
                    text = "0.0" if copysign(1.0, value) > 0 else "-0.0"
                append(f"{prefix}{text}\n")
        return "".join(out).encode("utf-8")

    def collect(self) -> Iterator[Metric]:
        for name in sorted(self._samples):
            spec = self._specs[name]
            if spec.type == "histogram":
                hist = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
                histograms = self._histograms.get(name, {})
                for key in sorted(histograms):
                    pairs, total = histograms[key]
                    hist.add_metric(list(key), list(pairs), total)
                yield hist
                continue
            typ = "unknown" if spec.type == "untyped" else spec.type
            metric = Metric(spec.family_name, spec.help, typ)
            labels = spec.labels
            samples = self._samples[name]
            for key in sorted(samples):
                metric.add_sample(spec.name, dict(zip(labels, key, strict=True)), samples[key])
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
# valid for a Spec equal to the one that made them
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
