"""Grafana provisioning: datasources with fixed uids, and the file provider for dashboards."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fleetwatch.config.writers import write_yaml
from fleetwatch.inventory import Inventory

PROMETHEUS_UID = "fleetwatch-prometheus"
ALERTMANAGER_UID = "fleetwatch-alertmanager"
LOKI_UID = "fleetwatch-loki"
#: where Grafana (deploy/docker-compose.yml) sees build/grafana/dashboards
DEFAULT_DASHBOARDS_PATH = "/var/lib/grafana/dashboards/fleetwatch"


def datasources(inventory: Inventory) -> dict[str, Any]:
    stack = inventory.stack
    query_url, alertmanager_url = stack.prometheus_url, stack.alertmanager_url
    if inventory.scale is not None:  # the global query endpoint; silences replicate to all peers
        query_url = inventory.scale.storage.query_url
        if inventory.scale.alertmanager is not None:
            alertmanager_url = f"http://{inventory.scale.alertmanager.peers[0]}"
    sources: list[dict[str, Any]] = [
        {
            "name": "Prometheus",
            "type": "prometheus",
            "uid": PROMETHEUS_UID,
            "url": query_url,
            "access": "proxy",
            "isDefault": True,
            "jsonData": {
                "timeInterval": inventory.defaults.scrape_interval,
                "httpMethod": "POST",
            },
        },
        {
            "name": "Alertmanager",
            "type": "alertmanager",
            "uid": ALERTMANAGER_UID,
            "url": alertmanager_url,
            "access": "proxy",
            "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
        },
    ]
    if stack.loki_url:
        sources.append(
            {
                "name": "Loki",
                "type": "loki",
                "uid": LOKI_UID,
                "url": stack.loki_url,
                "access": "proxy",
            }
        )
    return {"apiVersion": 1, "datasources": sources}


def dashboard_providers(dashboards_path: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "fleetwatch",
                "type": "file",
                "folder": "",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": dashboards_path, "foldersFromFilesStructure": True},
            }
        ],
    }


def write_grafana_provisioning(
    inventory: Inventory, out: Path, extra_dir: Path | None, dashboards_path: str
) -> list[Path]:
    """Write provisioning/{datasources,dashboards}; copy users' extra provisioning files."""
    source = inventory.path
    written = [
        write_yaml(out / "datasources" / "fleetwatch.yaml", datasources(inventory), source),
        write_yaml(
            out / "dashboards" / "fleetwatch.yaml", dashboard_providers(dashboards_path), source
        ),
    ]
    if extra_dir is not None and extra_dir.is_dir():
        for kind in ("datasources", "dashboards", "plugins", "alerting"):
            for src in sorted((extra_dir / kind).glob("*.yaml")):
                dst = out / kind / src.name
                if dst.exists():
                    continue  # fleetwatch's own file wins; a user file may not shadow it
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                written.append(dst)
    return written
