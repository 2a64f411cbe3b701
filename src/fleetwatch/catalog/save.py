"""A catalog as YAML, the format ``load_catalog`` reads back: deterministic and sorted."""

from __future__ import annotations

from pathlib import Path

from fleetwatch.catalog.exposition import parse_families
from fleetwatch.catalog.live import MAX_BYTES, fetch
from fleetwatch.catalog.loaders import load_catalog
from fleetwatch.catalog.model import Catalog
from fleetwatch.config.inputs import decode_text
from fleetwatch.config.writers import dump_yaml


def read_source(url_or_file: str, timeout: float = 10.0) -> Catalog:
    """The families of an application's ``/metrics`` (http(s) URL) or of a saved file."""
    if url_or_file.startswith(("http://", "https://")):
        text = decode_text(fetch(url_or_file, timeout, MAX_BYTES), url_or_file)
        return parse_families(text, url_or_file, source=url_or_file)
    return load_catalog(Path(url_or_file))


def dump_catalog(catalog: Catalog, name: str, source: str) -> str:
    """YAML ``{name, source, namespaces, metrics}``; metrics sorted by name, labels sorted."""
    metrics: list[dict[str, object]] = []
    for metric in sorted(catalog, key=lambda m: m.name):
        item: dict[str, object] = {"name": metric.name, "type": metric.type}
        if metric.help:
            item["help"] = metric.help
        if metric.labels:
            item["labels"] = sorted(metric.labels)
        if metric.deprecated:
            item["deprecated"] = metric.deprecated
        metrics.append(item)
    spaces = sorted(catalog.namespaces)
    header = (
        f"# Saved by `fleetwatch catalog save` from {source}.\n"
        "# Add `namespaces: [prefix_]` to make names under a prefix that are not listed errors.\n"
    )
    return header + dump_yaml(
        {"name": name, "source": source, "namespaces": spaces, "metrics": metrics}
    )
