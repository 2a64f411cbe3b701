"""The catalogs shipped as package data (``catalog/data/<name>.yaml``), made by
``scripts/catalogs/generate.py`` from the real programs and their public sources."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources

from fleetwatch.catalog.loaders import catalog_from_yaml
from fleetwatch.catalog.model import Catalog
from fleetwatch.config.yamlpos import Document, load_data


def shipped_names() -> list[str]:
    """The names of the shipped catalogs (``node_exporter``, ``cadvisor``, ...)."""
    data = resources.files(__package__).joinpath("data")
    return sorted(p.name[: -len(".yaml")] for p in data.iterdir() if p.name.endswith(".yaml"))


@cache
def shipped_catalog(name: str) -> Catalog:
    """One shipped catalog by name."""
    text = resources.files(__package__).joinpath("data", f"{name}.yaml").read_text("utf-8")
    file = f"fleetwatch/catalog/data/{name}.yaml"
    # trusted package data: libyaml without positions (10x faster than load_yaml)
    return catalog_from_yaml(Document(load_data(text, file)), file, name)


@lru_cache(maxsize=1)
def shipped() -> Catalog:
    """Every shipped catalog merged (claims included)."""
    return Catalog().merge(*(shipped_catalog(n) for n in shipped_names()))
