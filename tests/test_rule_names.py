"""The shared recording-rule names: code records them under the constant, content spells it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builtin_content import DASHBOARDS, REPO, RULES, recorded
from fleetwatch import rule_names
from fleetwatch.inventory import inventory_from_text
from fleetwatch.provisioning.prometheus import inventory_rules
from fleetwatch.rules import slo

#: level:metric:operations, as Prometheus' naming guide writes recording rules
_RECORD_NAME = re.compile(r"\b[a-zA-Z_]\w*:\w+:\w+\b")
CONTENT = sorted([*RULES.glob("*.yaml"), *DASHBOARDS.rglob("*.yaml")])

FLEET = """
version: 1
deployments:
  - name: prod
    provider: aws
    resources: {cpu_cores: 8, memory: 16GiB, storage: 1TB}
    hosts:
      - {name: web-1, address: 10.0.0.1, maintenance: true}
      - {name: web-2, address: 10.0.0.2, depends_on: [web-1]}
"""


def test_the_inventory_records_exactly_the_shared_names() -> None:
    inv = inventory_from_text(FLEET, "<test>", check_files=False)
    records = {r["record"] for g in inventory_rules(inv)["groups"] for r in g["rules"]}
    assert records == rule_names.INVENTORY_SERIES


@pytest.mark.parametrize("path", CONTENT, ids=lambda p: p.relative_to(REPO).as_posix())
def test_content_spells_only_names_that_are_recorded(path: Path) -> None:
    """A recording-rule name in content is the inventory's constant or one rules/ records."""
    used = set(_RECORD_NAME.findall(path.read_text(encoding="utf-8")))
    unknown = used - rule_names.INVENTORY_SERIES - recorded()
    assert not unknown, unknown


def test_content_uses_the_inventory_names() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in CONTENT)
    assert rule_names.MAINTENANCE in text
    assert {rule_names.ALLOCATED_CPU_CORES, rule_names.ALLOCATED_MEMORY_BYTES} <= set(
        _RECORD_NAME.findall(text)
    )


def test_slo_names_are_what_the_slo_rules_record() -> None:
    slo_records = {n for n in recorded() if n.startswith("slo:")}
    windowed = {n for n in slo_records if n.startswith((slo.SLI_ERROR, slo.SLI_TOTAL))}
    plain = {
        slo.OBJECTIVE, slo.ERROR_BUDGET, slo.TIME_PERIOD, slo.CURRENT_BURN_RATE,
        slo.PERIOD_BURN_RATE, slo.BUDGET_REMAINING,
    }  # fmt: skip
    assert slo_records - windowed == plain
    assert f"{slo.SLI_ERROR}5m" in windowed and f"{slo.SLI_TOTAL}5m" in windowed
