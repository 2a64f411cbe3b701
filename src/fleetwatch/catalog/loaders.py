"""User catalogs: a YAML list of metrics (names or globs) or a saved ``/metrics`` text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fleetwatch.catalog.exposition import parse_families
from fleetwatch.catalog.model import METRIC_TYPES, Catalog, Metric, MetricType
from fleetwatch.config.inputs import read_input
from fleetwatch.config.yamlpos import Document, load_yaml
from fleetwatch.errors import ConfigError

#: a catalog file: larger than any real exporter's page
MAX_BYTES = 32 * 1024 * 1024
_GLOB_NAME = re.compile(r"[a-zA-Z_:*?\[\]][a-zA-Z0-9_:*?\[\]!-]*")
_YAML_KEY = re.compile(r"^[A-Za-z_]+:(\s|$)")
_KEYS = {"name", "type", "help", "labels", "deprecated"}


def load_catalog(path: Path | str) -> Catalog:
    """A user catalog: ``.yaml`` / ``.yml`` / ``.json`` files and texts that start like YAML
    are YAML ``{metrics: [...]}``, other files a saved ``/metrics`` page."""
    file = str(path)
    text = read_input(path, "catalog file", MAX_BYTES)
    suffix = Path(file).suffix.lower()
    if suffix not in (".yaml", ".yml", ".json") and _looks_like_exposition(text):
        return parse_families(text, file, source=Path(file).name)
    doc = load_yaml(text, file)
    return catalog_from_yaml(doc, file)


def _looks_like_exposition(text: str) -> bool:
    """Exposition text unless the first content line is a YAML key (``metrics:``) or ``---``."""
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith(("# HELP ", "# TYPE ", "# UNIT ")):
            return True
        if s.startswith("#"):
            continue
        return not (s == "---" or s.startswith(("{", "- ")) or _YAML_KEY.match(s))
    return False


def catalog_from_yaml(doc: Document, file: str, default_source: str = "") -> Catalog:
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(file, "a catalog is a mapping with `metrics: [...]`", doc.line(()))
    source = data.get("name", default_source or Path(file).name)
    if not isinstance(source, str):
        raise ConfigError(file, "`name` must be a string", doc.line(("name",)), "name")
    metrics = data.get("metrics")
    if not isinstance(metrics, list):
        raise ConfigError(file, "`metrics` must be a list", doc.line(("metrics",)), "metrics")
    out: list[Metric] = []
    for i, item in enumerate(metrics):
        out.append(_metric(item, doc, file, i, source))
    spaces = data.get("namespaces", [])
    if not isinstance(spaces, list) or not all(
        isinstance(p, str) and p.endswith("_") and len(p) > 1 for p in spaces
    ):
        raise ConfigError(
            file,
            "`namespaces` must be a list of prefixes ending in `_`",
            doc.line(("namespaces",)),
            "namespaces",
        )
    return Catalog.of(out, {p: source for p in spaces})


def _metric(item: Any, doc: Document, file: str, i: int, source: str) -> Metric:
    at = ("metrics", i)
    key = f"metrics[{i}]"
    if not isinstance(item, dict):
        raise ConfigError(file, "a metric is a mapping {name, type}", doc.line(at), key)
    extra = set(item) - _KEYS
    if extra:
        raise ConfigError(file, f"unknown key {sorted(map(str, extra))[0]!r}", doc.line(at), key)
    name = item.get("name")
    if not isinstance(name, str) or not _GLOB_NAME.fullmatch(name):
        raise ConfigError(
            file, f"bad metric name {str(name)[:80]!r}", doc.line((*at, "name")), f"{key}.name"
        )
    kind = item.get("type", "untyped")
    if kind not in METRIC_TYPES:
        raise ConfigError(
            file,
            f"type must be one of {', '.join(sorted(METRIC_TYPES))}, not {str(kind)[:40]!r}",
            doc.line((*at, "type")),
            f"{key}.type",
        )
    text = item.get("help", "")
    note = item.get("deprecated", "")
    labels = item.get("labels")
    if not isinstance(text, str) or not isinstance(note, str):
        raise ConfigError(file, "help / deprecated must be strings", doc.line(at), key)
    if labels is not None and not (
        isinstance(labels, list) and all(isinstance(x, str) for x in labels)
    ):
        raise ConfigError(
            file, "labels must be a list of names", doc.line((*at, "labels")), f"{key}.labels"
        )
    return Metric(
        name,
        _kind(kind),
        help=text,
        labels=frozenset(labels) if labels is not None else None,
        source=source,
        deprecated=note,
    )


def _kind(kind: Any) -> MetricType:
    return kind  # type: ignore[no-any-return]
