"""Fixtures of the rules tests: a rules folder in tmp_path and the built-in content."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.inventory import Inventory
from fleetwatch.inventory.loader import load_inventory

ROOT = Path(__file__).resolve().parents[2]
BUILTIN_RULES = ROOT / "rules"
CONFIG = 'runbook_url_pattern: "https://runbooks.example.com/alerts/{alertname}"\n'


@pytest.fixture
def inventory() -> Inventory:
    return load_inventory(ROOT / "exporters" / "fleet.local.yaml")


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "config.yaml").write_text(CONFIG, encoding="utf-8")
    return d


@pytest.fixture
def builtin_rules() -> Path:
    return BUILTIN_RULES
