"""Rule files: recording names (they join the catalog) and promtool's findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetwatch.validate.promtool import Promtool
from fleetwatch.validate.rules import check_rule_files, is_rule_file, recorded_names

DOC = """
groups:
  - name: a
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
  - name: b
    rules:
      - record: instance:node_cpu:rate5m
        expr: rate(node_cpu_seconds_total[5m])
"""


def test_recorded_names() -> None:
    assert recorded_names(yaml.safe_load(DOC)) == {"job:up:sum", "instance:node_cpu:rate5m"}


@pytest.mark.parametrize("odd", [None, [], {"groups": None}, {"groups": [None, {"rules": 5}]}])
def test_recorded_names_of_odd_shapes(odd: Any) -> None:
    assert recorded_names(odd) == set()


def test_is_rule_file() -> None:
    assert is_rule_file(yaml.safe_load(DOC))
    assert not is_rule_file({"scrape_configs": []})


def test_check_rule_files_one_run(promtool: Promtool, tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(DOC)
    bad = tmp_path / "bad.yml"
    bad.write_text(DOC.replace("up == 0", "up == "))
    (finding,) = check_rule_files([good, bad], promtool)
    assert finding.file == str(bad) and finding.line == 8
    assert finding.location == 'group "a" rule 2 "Down"'
