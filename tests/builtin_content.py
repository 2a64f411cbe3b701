"""The built-in content at the top of the repository (rules/, dashboards/) as tests read it."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules"
DASHBOARDS = REPO / "dashboards"


@functools.cache
def recorded() -> frozenset[str]:
    """Names the built-in rules/ record once built (aggregates, recording, SLOs)."""
    from fleetwatch.inventory import default_inventory
    from fleetwatch.rules import build_rules

    with tempfile.TemporaryDirectory() as tmp:
        files = build_rules(RULES, default_inventory(), Path(tmp))
        return frozenset(
            r["record"]
            for f in files
            if f.parent.name == "rules"
            for g in yaml.safe_load(f.read_text())["groups"]
            for r in g["rules"]
            if "record" in r
        )
