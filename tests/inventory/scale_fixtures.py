"""Inventories with ``scale:`` for the scale-out tests (text builders, no files)."""

from __future__ import annotations

from typing import Any

from fleetwatch.inventory import Inventory, inventory_from_text


def scale_yaml(
    hosts: int = 6,
    exporters: int = 2,
    *,
    shards: int = 2,
    replicas: int = 2,
    engine: str = "prometheus-agent",
    storage: str = "kind: victoriametrics\n    url: http://127.0.0.1:8428",
    extra: str = "",
    module: str = "local",
) -> str:
    host_lines = "".join(
        f"      - name: host-{i:04d}\n        address: 127.0.0.1\n" for i in range(hosts)
    )
    exporter_lines = "".join(
        f"    - id: ex-{i}\n      address: 127.0.0.1:{19700 + i}\n" for i in range(exporters)
    )
    return (
        "version: 1\n"
        f"defaults:\n  modules: [{module}]\n"
        "deployments:\n  - name: dc1\n    provider: local\n    hosts:\n"
        f"{host_lines}"
        "scale:\n  exporters:\n"
        f"{exporter_lines}"
        f"  scraper:\n    engine: {engine}\n    shards: {shards}\n    replicas: {replicas}\n"
        f"  storage:\n    {storage}\n"
        "  rules:\n    evaluator: vmalert\n"
        "  alertmanager:\n    peers: [127.0.0.1:19093, 127.0.0.1:19095]\n"
        f"{extra}"
    )


def scale_inventory(**kwargs: Any) -> Inventory:
    return inventory_from_text(scale_yaml(**kwargs), "fleet.yaml")
