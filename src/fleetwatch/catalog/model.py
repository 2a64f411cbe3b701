"""The catalog model: declared metrics (names or globs), sample-name resolution, claims.

A ``Metric`` is a metric *family* as an exporter declares it (``# TYPE x histogram``); queries
use *sample* names (``x_bucket``, ``x_sum``, a counter's ``x_total``). ``Catalog.lookup``
maps a sample name back to its family: exact names before globs, the longest suffix first.
A catalog *claims* namespaces (name prefixes): a name under a claimed prefix that no metric
matches cannot exist, and ``suggest`` offers the nearest names of the claiming catalog.
"""

from __future__ import annotations

import difflib
import fnmatch
import heapq
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

#: a name and its words, as the did-you-mean index keeps them
_Entry = tuple[str, frozenset[str]]

MetricType = Literal[
    "counter", "gauge", "histogram", "summary", "untyped", "info", "stateset", "gaugehistogram"
]
METRIC_TYPES: frozenset[str] = frozenset(
    ("counter", "gauge", "histogram", "summary", "untyped", "info", "stateset", "gaugehistogram")
)

#: sample suffix -> the family types that produce it
_SUFFIXES: tuple[tuple[str, frozenset[str]], ...] = (
    ("_bucket", frozenset(("histogram", "gaugehistogram"))),
    ("_count", frozenset(("histogram", "summary"))),
    ("_sum", frozenset(("histogram", "summary"))),
    ("_gcount", frozenset(("gaugehistogram",))),
    ("_gsum", frozenset(("gaugehistogram",))),
    ("_created", frozenset(("counter", "histogram", "summary"))),
    ("_total", frozenset(("counter",))),
    ("_info", frozenset(("info",))),
)


@dataclass(frozen=True)
class Metric:
    """One declared family; ``name`` may be a glob (``mysql_global_status_*``)."""

    name: str
    type: MetricType
    help: str = ""
    labels: frozenset[str] | None = None
    source: str = ""
    #: a human note when the name is gone or renamed ("renamed to X in node_exporter 0.16")
    deprecated: str = ""

    @property
    def is_glob(self) -> bool:
        return any(c in self.name for c in "*?[")


@dataclass
class Catalog:
    """Metrics by name, plus the namespaces each source claims (``{"node_": "node_exporter"}``)."""

    metrics: dict[str, Metric] = field(default_factory=dict)
    namespaces: dict[str, str] = field(default_factory=dict)
    _globs: list[tuple[str, re.Pattern[str], Metric]] = field(default_factory=list, repr=False)
    _by_source: dict[str, dict[str, list[_Entry]]] | None = field(default=None, repr=False)
    _suggested: dict[tuple[str, int], list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, metrics: Iterable[Metric], namespaces: Mapping[str, str] | Iterable[str] = ()
    ) -> Catalog:
        """A catalog of ``metrics``; a plain list of namespaces is claimed by their source."""
        out = cls()
        items = list(metrics)
        for metric in items:
            out._add(metric)
        if isinstance(namespaces, Mapping):
            out.namespaces.update(namespaces)
        else:
            source = items[0].source if items else ""
            out.namespaces.update({prefix: source for prefix in namespaces})
        return out

    def _add(self, metric: Metric) -> None:
        old = self.metrics.get(metric.name)
        if old is not None and old.deprecated == "" and metric.deprecated:
            return  # a current declaration wins over a deprecated one of the same name
        self.metrics[metric.name] = metric
        self._by_source = None
        self._suggested.clear()
        if metric.is_glob:
            self._globs = [g for g in self._globs if g[2].name != metric.name]
            literal = re.split(r"[*?\[]", metric.name, maxsplit=1)[0]
            self._globs.append((literal, re.compile(fnmatch.translate(metric.name)), metric))
            # the most specific first: node_memory_numa_* before node_memory_*
            self._globs.sort(key=lambda g: -len(g[0]))

    def __len__(self) -> int:
        return len(self.metrics)

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics.values())

    def names(self) -> list[str]:
        return sorted(self.metrics)

    def merge(self, *others: Catalog) -> Catalog:
        """A new catalog: this one's metrics and claims, then each of ``others`` in turn."""
        out = Catalog()
        for cat in (self, *others):
            for metric in cat.metrics.values():
                out._add(metric)
            out.namespaces.update(cat.namespaces)
        return out

    # -- resolution -------------------------------------------------------------------------

    def _family(self, name: str) -> Metric | None:
        metric = self.metrics.get(name)
        if metric is not None:
            return metric
        for literal, pattern, glob in self._globs:
            if name.startswith(literal) and pattern.match(name):
                return glob
        return None

    def _resolve(self, sample: str) -> tuple[Metric, str] | None:
        """The family of ``sample`` and the suffix it carries ("" for the family name)."""
        exact = self.metrics.get(sample)
        if exact is not None:
            return exact, ""
        found = self._parts(sample, self.metrics.get)
        if found is not None:
            return found
        glob = self._family(sample)
        if glob is not None:
            return glob, ""
        return self._parts(sample, self._family)

    @staticmethod
    def _parts(sample: str, get: Callable[[str], Metric | None]) -> tuple[Metric, str] | None:
        for suffix, types in _SUFFIXES:
            if not sample.endswith(suffix) or len(sample) == len(suffix):
                continue
            stem = sample[: -len(suffix)]
            if suffix == "_total" and stem.endswith("_total"):
                continue  # x_total_total is nobody's sample
            base = get(stem)
            if base is None and suffix == "_created":
                base = get(stem + "_total")  # a counter declared with its _total
            if base is not None and base.type in types:
                return base, suffix
        return None

    def lookup(self, sample_name: str) -> Metric | None:
        """The family a sample name belongs to, or None."""
        found = self._resolve(sample_name)
        return found[0] if found else None

    def sample_type(self, sample_name: str) -> str | None:
        """What the sample series behaves as: histogram / summary parts are counters."""
        found = self._resolve(sample_name)
        if found is None:
            return None
        metric, suffix = found
        if suffix in ("_bucket", "_sum", "_count", "_created"):
            return "counter"
        if suffix in ("_gcount", "_gsum"):
            return "gauge"
        if metric.type == "summary":
            return "gauge"  # the quantile series
        if metric.type in ("histogram", "gaugehistogram"):
            # a native histogram read by its own name
            return "histogram"
        if metric.type in ("info", "stateset"):
            return "gauge"
        return metric.type

    # -- claims and suggestions -------------------------------------------------------------

    def claimed_by(self, sample_name: str) -> str | None:
        """The source claiming the longest namespace prefix of ``sample_name``, or None."""
        best = ""
        for prefix in self.namespaces:
            if sample_name.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.namespaces[best] if best else None

    def _index(self) -> dict[str, dict[str, list[_Entry]]]:
        """Per source: names by their first two words (``node_cpu``) and by the first one."""
        if self._by_source is None:
            index: dict[str, dict[str, list[_Entry]]] = {}
            for metric in self.metrics.values():
                if metric.is_glob or metric.deprecated:
                    continue
                bucket = index.setdefault(metric.source, {})
                for name in (
                    metric.name,
                    *(metric.name + s for s in _sample_suffixes(metric.type)),
                ):
                    entry = (name, frozenset(name.split("_")))
                    for key in _keys(name):
                        bucket.setdefault(key, []).append(entry)
            self._by_source = index
        return self._by_source

    def suggest(self, sample_name: str, n: int = 3) -> list[str]:
        """Did you mean: the nearest names of the catalog claiming ``sample_name``.

        difflib runs over the names sharing the first two words (a few dozen), and only
        when those give nothing over the names sharing the first word, near in length."""
        source = self.claimed_by(sample_name)
        if source is None:
            return []
        key = (sample_name, n)
        cached = self._suggested.get(key)
        if cached is None:
            cached = self._suggest(source, sample_name, n)
            if len(self._suggested) < _MAX_CACHED:
                self._suggested[key] = cached
        return list(cached)

    def _suggest(self, source: str, sample_name: str, n: int) -> list[str]:
        buckets = self._index().get(source, {})
        two, one = _keys(sample_name)
        found = _closest(sample_name, buckets.get(two, []), n)
        if found:
            return found
        size = len(sample_name)
        pool = [e for e in buckets.get(one, ()) if abs(len(e[0]) - size) <= max(3, size // 5)]
        return _closest(sample_name, pool, n)


#: suggestions kept per catalog (the same typo repeats across panels and files)
_MAX_CACHED = 10_000
#: difflib (slow: ~50 us a pair) compares at most this many names, those sharing the most
#: words with the typo and nearest in length
_SHORTLIST = 5


def _closest(name: str, pool: list[_Entry], n: int) -> list[str]:
    if len(pool) > _SHORTLIST:
        words = frozenset(name.split("_"))
        size = len(name)

        def score(entry: _Entry) -> tuple[int, int]:
            return len(words & entry[1]), -abs(len(entry[0]) - size)

        pool = heapq.nlargest(_SHORTLIST, pool, key=score)
    return difflib.get_close_matches(name, [e[0] for e in pool], n=n, cutoff=0.6)


def _keys(name: str) -> tuple[str, str]:
    words = name.split("_", 2)
    first = words[0] + "_"
    return (first + words[1] + "_" if len(words) > 2 else name), first


def _sample_suffixes(kind: str) -> tuple[str, ...]:
    if kind in ("histogram", "gaugehistogram"):
        return ("_bucket", "_sum", "_count")
    if kind == "summary":
        return ("_sum", "_count")
    return ()
