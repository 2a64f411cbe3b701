"""The shared finishing step: defaults, datasources, ids; Angular panels converted or refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from fleetwatch.dashboards.normalize import normalize
from fleetwatch.errors import ConfigErrors


def as_json(dashboard: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))


def graph(**extra: Any) -> Any:
    return g.Graph(
        title="Old",
        targets=[g.Target(expr="up", legendFormat="{{instance}}")],
        yAxes=g.YAxes(left=g.YAxis(format="bytes", min=0)),
        **extra,
    )


def test_graph_is_converted_to_timeseries():
    d = normalize(as_json(g.Dashboard(title="x", panels=[graph(stack=True)])), "f.py", "fw-1")
    (p,) = d["panels"]
    assert p["type"] == "timeseries"
    assert p["fieldConfig"]["defaults"]["unit"] == "bytes"
    assert p["fieldConfig"]["defaults"]["min"] == 0
    assert p["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"
    assert p["targets"][0]["refId"] == "A" and p["targets"][0]["legendFormat"] == "{{instance}}"
    assert "yaxes" not in p and "seriesOverrides" not in p
    assert p["gridPos"] == {"x": 0, "y": 0, "w": 12, "h": 8}


def test_graph_with_series_overrides_is_rejected():
    panel = graph(seriesOverrides=[{"alias": "x", "yaxis": 2}])
    with pytest.raises(ConfigErrors) as info:
        normalize(as_json(g.Dashboard(title="x", panels=[panel])), "f.py", "fw-1")
    (error,) = info.value.errors
    assert error.file == "f.py" and error.key == "panels[0]"
    assert "'Old'" in error.message and "seriesOverrides" in error.message


def test_singlestat_is_converted_to_stat():
    panel = g.SingleStat(
        title="S",
        targets=[g.Target(expr="up")],
        format="percentunit",
        thresholds="0.8,0.9",
        sparkline=g.SparkLine(show=True),
        valueName="current",
    )
    d = normalize(as_json(g.Dashboard(title="x", panels=[panel])), "f.py", "fw-1")
    (p,) = d["panels"]
    assert p["type"] == "stat"
    assert p["options"]["graphMode"] == "area"
    assert p["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
    steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 0.8, 0.9]


def test_table_old_is_converted():
    raw = {"title": "x", "panels": [{"type": "table-old", "title": "T", "targets": [{}]}]}
    (p,) = normalize(raw, "f.json", "fw-1")["panels"]
    assert p["type"] == "table" and p["fieldConfig"]["defaults"]["unit"] == "short"


def test_angular_plugin_is_rejected():
    raw = {"title": "x", "panels": [{"type": "grafana-piechart-panel", "title": "P"}]}
    with pytest.raises(ConfigErrors, match="piechart"):
        normalize(raw, "f.json", "fw-1")


def test_missing_unit_is_an_error():
    panel = g.TimeSeries(title="No unit", targets=[g.Target(expr="up")])
    with pytest.raises(ConfigErrors) as info:
        normalize(as_json(g.Dashboard(title="x", panels=[panel])), "f.py", "fw-1")
    (error,) = info.value.errors
    assert error.key == "panels[0].fieldConfig.defaults.unit"


def test_ids_refids_and_datasources_are_fixed():
    raw = {
        "title": "x",
        "schemaVersion": 16,
        "templating": {"list": [{"name": "i", "type": "query", "datasource": "Prometheus"}]},
        "panels": [
            {
                "id": 3,
                "type": "stat",
                "title": "a",
                "fieldConfig": {"defaults": {"unit": "s"}},
                "targets": [{"expr": "up"}, {"expr": "up", "refId": "A"}],
            },
            {
                "id": 3,
                "type": "stat",
                "title": "b",
                "datasource": "Prometheus",
                "fieldConfig": {"defaults": {"unit": "s"}},
                "targets": [{"expr": "up", "datasource": {"type": "loki", "uid": "l"}}],
            },
        ],
    }
    d = normalize(raw, "f.json", "fw-1")
    assert d["schemaVersion"] == 39 and d["uid"] == "fw-1"
    assert [p["id"] for p in d["panels"]] == [3, 4]
    assert [t["refId"] for t in d["panels"][0]["targets"]] == ["A", "B"]
    assert d["panels"][1]["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert d["panels"][1]["targets"][0]["datasource"] == {"type": "loki", "uid": "l"}
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == ["datasource", "i"]
    assert d["templating"]["list"][1]["datasource"]["uid"] == "${datasource}"
    assert d["refresh"] == "30s" and d["time"]["from"] == "now-6h"


def test_datasource_variable_of_wrong_type():
    raw = {"title": "x", "templating": {"list": [{"name": "datasource", "type": "query"}]}}
    with pytest.raises(ConfigErrors, match="must be of type datasource"):
        normalize(raw, "f.json", "fw-1")


def test_overlapping_gridpos_is_an_error():
    p = {"type": "text", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}}
    raw = {"title": "x", "panels": [dict(p, title="a"), dict(p, title="b")]}
    with pytest.raises(ConfigErrors, match="overlaps"):
        normalize(raw, "f.json", "fw-1")


def test_input_is_not_modified():
    raw = {"title": "x", "panels": []}
    normalize(raw, "f.json", "fw-1")
    assert raw == {"title": "x", "panels": []}
