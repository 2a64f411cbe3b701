"""``fleetwatch build``'s dashboards step: sources -> normalized Grafana JSON files.

Sources under ``src_dir``: every ``*.yaml`` (the fleetwatch format, see ``README.md``) and
every ``*.dashboard.py`` (grafanalib), in sorted order.  A file's folder is its directory
relative to ``src_dir`` (``fleetwatch`` for files directly in it); its slug is its file name
without the suffix.  Output: ``out_dir/<folder>/<slug>.json``, byte-identical for the same
input.  Every problem in every file is reported at once, as ``ConfigErrors``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetwatch.config.writers import dump_json
from fleetwatch.dashboards.grafanalib_loader import load_grafanalib
from fleetwatch.dashboards.loader import load_dashboard
from fleetwatch.dashboards.normalize import normalize
from fleetwatch.dashboards.render import render
from fleetwatch.errors import ConfigError, ConfigErrors

ROOT_FOLDER = "fleetwatch"
YAML_SUFFIX = ".yaml"
PYTHON_SUFFIX = ".dashboard.py"


@dataclass(frozen=True)
class Built:
    """One compiled dashboard: where it came from, where it goes, and its JSON."""

    source: Path
    folder: str
    slug: str
    json: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.json["uid"])

    @property
    def title(self) -> str:
        return str(self.json["title"])

    @property
    def relative_path(self) -> Path:
        return Path(self.folder) / f"{self.slug}.json"


def discover(src_dir: Path) -> list[Path]:
    """Dashboard sources under ``src_dir`` (hidden files and directories skipped), sorted."""
    found = [*src_dir.rglob(f"*{YAML_SUFFIX}"), *src_dir.rglob(f"*{PYTHON_SUFFIX}")]
    visible = [
        p
        for p in found
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(src_dir).parts)
    ]
    return sorted(visible, key=lambda p: p.relative_to(src_dir).as_posix())


def folder_of(src_dir: Path, path: Path) -> str:
    parent = path.relative_to(src_dir).parent.as_posix()
    return ROOT_FOLDER if parent == "." else parent


def slug_of(path: Path) -> str:
    name = path.name
    for suffix in (PYTHON_SUFFIX, YAML_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "dashboard"


def dashboard_uid(folder: str, slug: str) -> str:
    """The uid of a dashboard that gives none: stable across builds and machines."""
    return "fw-" + hashlib.sha256(f"{folder}/{slug}".encode()).hexdigest()[:12]


def compile_dashboard(src_dir: Path, path: Path) -> Built:
    """Load, render and normalize one source file; raise ``ConfigError(s)`` on problems."""
    folder, slug = folder_of(src_dir, path), slug_of(path)
    file = str(path)
    if path.name.endswith(PYTHON_SUFFIX):
        data = load_grafanalib(path, file)
    else:
        data = render(load_dashboard(path, file))
    return Built(path, folder, slug, normalize(data, file, dashboard_uid(folder, slug)))


def compile_dashboards(src_dir: Path) -> list[Built]:
    """Every dashboard under ``src_dir``, compiled in memory (nothing written)."""
    errors: list[ConfigError] = []
    built: list[Built] = []
    for path in discover(src_dir):
        try:
            built.append(compile_dashboard(src_dir, path))
        except ConfigErrors as exc:
            errors.extend(exc.errors)
        except ConfigError as exc:
            errors.append(exc)
    errors.extend(_duplicates(built))
    if errors:
        raise ConfigErrors(errors)
    return built


def _duplicates(built: list[Built]) -> list[ConfigError]:
    """Grafana uids are global; titles must differ within a folder; so must output paths."""
    errors: list[ConfigError] = []
    seen: dict[tuple[str, object], Built] = {}
    for b in built:
        for kind, key, what in (
            ("uid", b.uid, f"uid {b.uid!r}"),
            ("title", (b.folder, b.title.casefold()), f"title {b.title!r} in folder {b.folder!r}"),
            ("path", b.relative_path, f"output {b.relative_path.as_posix()!r}"),
        ):
            first = seen.setdefault((kind, key), b)
            if first is not b:
                errors.append(ConfigError(str(b.source), f"duplicate {what}: also {first.source}"))
    return errors


def build_dashboards(src_dir: Path, out_dir: Path) -> list[Path]:
    """Compile every dashboard under ``src_dir`` into ``out_dir/<folder>/<slug>.json``.

    Returns the written paths (sorted).  Raises ``ConfigErrors`` listing every problem of
    every file before anything is written.
    """
    written: list[Path] = []
    for b in compile_dashboards(src_dir):
        target = out_dir / b.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_json(b.json), encoding="utf-8")
        written.append(target)
    return sorted(written)
