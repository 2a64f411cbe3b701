"""Metric families of a ``/metrics`` text (Prometheus text format 0.0.4 and OpenMetrics).

Only names, types, help and label names are kept: values are not parsed. A family with no
``# TYPE`` is untyped; histogram / summary samples (``_bucket``, ``_sum``, ``_count``) and
an OpenMetrics counter's ``_total`` fold into their declared family. Bad lines are a
``ConfigError`` naming the file and line.
"""

from __future__ import annotations

import re

from fleetwatch.catalog.model import METRIC_TYPES, Catalog, Metric, MetricType
from fleetwatch.errors import ConfigError

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_PARTS = {
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("_sum", "_count", "_created"),
    "counter": ("_total", "_created"),
    "info": ("_info",),
}
#: more families than any real exporter serves (node_exporter: ~400, cAdvisor ~100)
MAX_FAMILIES = 100_000


class _Family:
    __slots__ = ("help", "labels", "type")

    def __init__(self) -> None:
        self.type = "untyped"
        self.help = ""
        self.labels: set[str] = set()


def _labels(text: str, start: int, file: str, line: int) -> tuple[set[str], int]:
    """Label names of the set opening at ``text[start] == "{"`` and the index after its "}"
    (an OpenMetrics exemplar after the value has braces of its own)."""
    names: set[str] = set()
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text):
            raise ConfigError(file, "label set not closed", line)
        if text[pos] == "}":
            return names, pos + 1
        m = _LABEL.match(text, pos)
        if m is None and "}" not in text[pos:]:
            raise ConfigError(file, "label set not closed", line)
        if m is None:
            raise ConfigError(file, f"malformed label set {text[start : start + 60]}", line)
        if m.group(1) not in ("le", "quantile"):
            names.add(m.group(1))
        pos = m.end()


def parse_families(text: str, file: str, source: str = "") -> Catalog:
    """The families of an exposition text, as a catalog claiming nothing."""
    families: dict[str, _Family] = {}

    def family(name: str, line: int) -> _Family:
        fam = families.get(name)
        if fam is None:
            if len(families) >= MAX_FAMILIES:
                raise ConfigError(file, f"more than {MAX_FAMILIES} metric families", line)
            fam = families[name] = _Family()
        return fam

    samples: list[tuple[str, set[str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE", "UNIT"):
                name = parts[2]
                if not _NAME.fullmatch(name):
                    raise ConfigError(file, f"bad metric name {name[:80]!r}", number)
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "TYPE":
                    kind = rest.strip().lower()
                    kind = "untyped" if kind == "unknown" else kind  # OpenMetrics' word
                    if kind not in METRIC_TYPES:
                        raise ConfigError(file, f"unknown metric type {kind[:40]!r}", number)
                    family(name, number).type = kind
                elif parts[1] == "HELP":
                    family(name, number).help = rest
            elif line == "# EOF":
                break
            continue
        m = _NAME.match(line)
        if m is None:
            raise ConfigError(file, f"not a sample line: {line[:80]!r}", number)
        name, rest = m.group(0), line[m.end() :]
        labels: set[str] = set()
        if rest.startswith("{"):
            labels, end = _labels(rest, 0, file, number)
            rest = rest[end:]
        if not rest[:1].isspace() or not rest.split():
            raise ConfigError(file, f"sample {name} has no value", number)
        samples.append((name, labels))

    for name, labels in samples:
        fam = families.get(name)
        if fam is None or fam.type in ("histogram", "summary", "gaugehistogram"):
            for base_kind, suffixes in _PARTS.items():
                base = next(
                    (name[: -len(s)] for s in suffixes if name.endswith(s) and name != s), None
                )
                target = families.get(base) if base else None
                if target is not None and target.type == base_kind:
                    fam = target
                    break
        if fam is None:
            fam = family(name, 0)
        fam.labels |= labels
    return Catalog.of(
        Metric(
            name,
            _type(fam.type),
            help=_unescape(fam.help),
            labels=frozenset(fam.labels),
            source=source,
        )
        for name, fam in families.items()
    )


def _type(kind: str) -> MetricType:
    assert kind in METRIC_TYPES
    return kind  # type: ignore[return-value]


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\\\", "\\")
