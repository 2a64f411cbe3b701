"""A clean dashboard to break one rule at a time; the reference dashboard's path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

#: shared/ lies beside the repository (a session's checkout and CI's fresh clone alike)
NODE_EXPORTER_FULL = (
    Path(__file__).resolve().parents[3] / "shared" / "compat" / "node-exporter-full.json"
)
DS = {"type": "prometheus", "uid": "${datasource}"}

GOOD: dict[str, Any] = {
    "uid": "fw-test",
    "title": "Test",
    "schemaVersion": 41,
    "templating": {
        "list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus"},
            {
                "name": "job",
                "type": "query",
                "datasource": DS,
                "query": {"query": "label_values(node_uname_info, job)", "refId": "A"},
                "multi": True,
                "includeAll": True,
                "allValue": ".+",
                "refresh": 2,
            },
        ]
    },
    "panels": [
        {"id": 1, "type": "row", "title": "CPU", "collapsed": False, "panels": [],
         "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}},
        {
            "id": 2,
            "type": "timeseries",
            "title": "CPU busy",
            "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
            "datasource": DS,
            "fieldConfig": {"defaults": {"unit": "percentunit"}, "overrides": []},
            "targets": [
                {
                    "refId": "A",
                    "datasource": DS,
                    "expr": 'sum by (instance) (rate(node_cpu_seconds_total{job=~"$job",'
                    'mode!="idle"}[$__rate_interval]))',
                }
            ],
        },
        {
            "id": 3,
            "type": "stat",
            "title": "Load",
            "gridPos": {"h": 8, "w": 12, "x": 12, "y": 1},
            "datasource": DS,
            "fieldConfig": {"defaults": {"unit": "short"}},
            "targets": [{"refId": "A", "expr": 'node_load1{job=~"$job"}'}],
        },
        {
            "id": 4,
            "type": "row",
            "title": "Memory",
            "collapsed": True,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": 9},
            "panels": [
                {
                    "id": 5,
                    "type": "timeseries",
                    "title": "Available",
                    "gridPos": {"h": 8, "w": 24, "x": 0, "y": 10},
                    "datasource": DS,
                    "fieldConfig": {"defaults": {"unit": "bytes"}},
                    "targets": [{"refId": "A", "expr": "node_memory_MemAvailable_bytes"}],
                }
            ],
        },
    ],
}  # fmt: skip


def good_dashboard() -> dict[str, Any]:
    return copy.deepcopy(GOOD)


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
