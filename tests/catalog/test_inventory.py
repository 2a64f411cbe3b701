"""Metrics the inventory defines: the postgres services' custom queries, with their types."""

from __future__ import annotations

from pathlib import Path

from fleetwatch.catalog import inventory_catalog
from fleetwatch.inventory.loader import inventory_from_text, load_inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "exporters" / "fleet.example.yaml"


def test_example_inventory_defines_tenants_total() -> None:
    cat = inventory_catalog(load_inventory(EXAMPLE, check_files=False))
    tenants = cat.lookup("tenants_total")
    assert tenants is not None
    assert tenants.type == "gauge"  # declared a gauge: its _total name does not make it a counter
    assert cat.sample_type("tenants_total") == "gauge"
    assert tenants.labels == {"status"}
    assert tenants.source == "inventory (platform-db)"
    assert cat.lookup("tenants_status") is None  # a label column is not a metric


def test_counters_and_discarded_columns() -> None:
    text = """\
version: 1
deployments:
  - name: d
    provider: onprem
    services:
      - name: db
        module: postgres
        address: 127.0.0.1:5432
        params:
          queries:
            - name: jobs
              query: SELECT kind, done, ignored FROM jobs
              metrics:
                - {column: kind, usage: label}
                - {column: done, usage: counter}
                - {column: ignored, usage: discard}
      - name: cache
        module: redis
        address: 127.0.0.1:6379
"""
    cat = inventory_catalog(inventory_from_text(text, "fleet.yaml"))
    assert cat.names() == ["jobs_done"]
    assert cat.sample_type("jobs_done") == "counter"
    assert cat.namespaces == {}
