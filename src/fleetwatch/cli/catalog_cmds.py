"""``fleetwatch catalog save | list``: metric catalogs for ``validate --catalog`` in offline CI."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import click


@click.group("catalog")
def catalog() -> None:
    """Metric catalogs: save an application's /metrics, list what is known."""


@catalog.command("save")
@click.argument("source", metavar="URL_OR_FILE")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The catalog YAML to write.")  # fmt: skip
@click.option("--name", help="The catalog's name [default: the output file's stem].")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=300), default=10.0,
              show_default=True, help="Seconds for the whole scrape.")  # fmt: skip
def save(source: str, output: Path, name: str | None, timeout: float) -> None:
    """Scrape URL_OR_FILE (an application's /metrics, at most 32 MiB, or a saved text) and
    write its metric families as a catalog file for `fleetwatch validate --catalog`."""
    from fleetwatch.catalog.save import dump_catalog, read_source

    cat = read_source(source, timeout)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(dump_catalog(cat, name or output.stem, source), encoding="utf-8")
    click.echo(f"{output}: {len(cat)} metric families")


@catalog.command("list")
@click.option("--catalog", "files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also a user catalog (YAML or a saved /metrics text); repeatable.")  # fmt: skip
@click.option("--shipped/--no-shipped", default=True, show_default=True,
              help="Include the shipped catalogs.")  # fmt: skip
@click.argument("pattern", metavar="[NAME_GLOB]", required=False)
def list_(files: tuple[Path, ...], shipped: bool, pattern: str | None) -> None:
    """Print NAME TYPE SOURCE of each known metric (matching NAME_GLOB)."""
    from fleetwatch import catalog as cat

    parts = ([cat.shipped()] if shipped else []) + [cat.load_catalog(f) for f in files]
    merged = cat.Catalog().merge(*parts)
    for metric in sorted(merged, key=lambda m: m.name):
        if pattern and not fnmatch.fnmatchcase(metric.name, pattern):
            continue
        note = f"  (deprecated: {metric.deprecated})" if metric.deprecated else ""
        click.echo(f"{metric.name}\t{metric.type}\t{metric.source}{note}")
