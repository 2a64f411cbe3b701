"""Model -> Grafana JSON (through normalize): the properties every dashboard must have."""

from __future__ import annotations

from typing import Any

from fleetwatch.dashboards.normalize import normalize
from fleetwatch.dashboards.render import render

ANGULAR = {"graph", "singlestat", "table-old"}
UNITLESS = {"row", "text", "alertlist"}

YAML = """\
title: Demo
tags: [x]
time_options: [1h, 7d]
variables:
  - {name: instance, query: 'label_values(up, instance)', multi: true, include_all: true}
  - {name: step, type: interval, values: [1m, 5m]}
panels:
  - type: row
    title: Top
  - type: stat
    title: Memory used / total
    unit: bytes
    sparkline: true
    queries:
      - {expr: 'node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes', legend: used}
      - {expr: node_memory_MemTotal_bytes, legend: total}
  - type: table
    title: Hosts
    unit: percentunit
    queries:
      - {expr: up, legend: Up, unit: none}
      - {expr: 'node_load1 / 4', legend: Load}
    data_links:
      - {title: Detail, url: '/d/x?var-instance=${__data.fields.instance}'}
  - type: timeseries
    title: CPU
    unit: percentunit
    expr: rate(node_cpu_seconds_total{instance=~"$instance"}[$__rate_interval])
    options: {legend: {placement: right}}
    datasource: {type: loki, uid: fleetwatch-loki}
  - {type: text, content: hello}
  - {type: alertlist, title: Alerts}
"""


def built(load: Any) -> dict[str, Any]:
    return normalize(render(load(YAML)), "d.yaml", "fw-test")


def all_panels(d: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in d["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def check_properties(d: dict[str, Any]) -> None:
    """What every built dashboard must satisfy (also used by the smoke tests)."""
    assert d["schemaVersion"] >= 39
    assert d["uid"] and len(d["uid"]) <= 40
    variables = d["templating"]["list"]
    ds = [v for v in variables if v["name"] == "datasource"]
    assert len(ds) == 1 and ds[0]["type"] == "datasource" and ds[0]["query"] == "prometheus"
    panels = all_panels(d)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for p in panels:
        assert p["type"] not in ANGULAR
        if p["type"] not in UNITLESS:
            assert p["fieldConfig"]["defaults"].get("unit"), p["title"]
            assert p["datasource"]["uid"], p["title"]
            refs = [t["refId"] for t in p["targets"]]
            assert len(refs) == len(set(refs)) and all(refs)
    boxes = [p["gridPos"] for p in d["panels"]]
    for i, a in enumerate(boxes):
        assert a["x"] + a["w"] <= 24
        for b in boxes[i + 1 :]:
            assert not (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            ), (a, b)


def test_properties(load):
    check_properties(built(load))


def test_datasource_variable_first_and_prometheus_everywhere(load):
    d = built(load)
    assert d["templating"]["list"][0]["name"] == "datasource"
    stat = d["panels"][1]
    assert stat["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert {t["datasource"]["uid"] for t in stat["targets"]} == {"${datasource}"}


def test_other_datasource_type_is_kept(load):
    ts = built(load)["panels"][3]
    assert ts["datasource"] == {"type": "loki", "uid": "fleetwatch-loki"}
    assert ts["targets"][0]["datasource"]["type"] == "loki"


def test_sparkline_stat_is_area(load):
    stat = built(load)["panels"][1]
    assert stat["options"]["graphMode"] == "area"
    assert [t["legendFormat"] for t in stat["targets"]] == ["used", "total"]


def test_table_merges_and_names_columns(load):
    table = built(load)["panels"][2]
    assert [t["id"] for t in table["transformations"]] == ["merge", "organize"]
    assert all(t["format"] == "table" and t["instant"] for t in table["targets"])
    names = {o["matcher"]["options"]: o["properties"] for o in table["fieldConfig"]["overrides"]}
    assert {"id": "unit", "value": "none"} in names["Value #A"]
    assert {"id": "displayName", "value": "Load"} in names["Value #B"]
    assert table["fieldConfig"]["defaults"]["links"][0]["title"] == "Detail"


def test_options_escape_hatch_merges(load):
    ts = built(load)["panels"][3]
    assert ts["options"]["legend"]["placement"] == "right"
    assert ts["options"]["legend"]["showLegend"] is True


def test_variables(load):
    variables = {v["name"]: v for v in built(load)["templating"]["list"]}
    inst = variables["instance"]
    assert (inst["multi"], inst["includeAll"], inst["allValue"], inst["refresh"]) == (
        True,
        True,
        ".+",
        2,
    )
    assert inst["definition"] == "label_values(up, instance)"
    assert variables["step"]["type"] == "interval"
    assert variables["step"]["current"]["value"] == "1m"


def test_defaults_and_quick_ranges(load):
    d = built(load)
    assert d["refresh"] == "30s" and d["time"] == {"from": "now-6h", "to": "now"}
    assert d["timepicker"]["time_options"] == ["1h", "7d"]
    assert d["timepicker"]["quick_ranges"][1] == {
        "display": "Last 7d",
        "from": "now-7d",
        "to": "now",
    }


def test_given_uid_wins(load):
    d = normalize(render(load("title: T\nuid: mine\n")), "d.yaml", "fw-x")
    assert d["uid"] == "mine"


def test_time_from_is_the_panels_own_range(load):
    board = load(
        "title: T\npanels:\n"
        "  - {type: state-timeline, title: History, unit: none, expr: up, time_from: 24h}\n"
        "  - {type: timeseries, title: Now, unit: none, expr: up}\n"
    )
    history, now = normalize(render(board), "d.yaml", "fw-t")["panels"]
    assert history["timeFrom"] == "24h"
    assert "timeFrom" not in now


def test_time_from_must_be_a_duration(problems):
    (error,) = problems(
        "title: T\npanels:\n  - {type: stat, title: S, unit: none, expr: up, time_from: a day}\n"
    )
    assert "duration" in str(error) and "time_from" in str(error)


ROWS = """\
title: Rows
panels:
  - {type: row, title: Open}
  - {type: stat, title: A, expr: up, unit: none}
  - {type: row, title: Shut, collapsed: true}
  - {type: timeseries, title: B, expr: up, unit: none}
  - {type: timeseries, title: C, expr: up, unit: none}
  - {type: stat, title: D, expr: up, unit: none}
  - {type: row, title: After}
  - {type: stat, title: E, expr: up, unit: none}
"""


def test_a_collapsed_rows_panels_are_nested_in_it_and_the_rest_moves_up(load):
    d = built_from(load, ROWS)
    top = [(p["type"], p["title"]) for p in d["panels"]]
    assert top == [("row", "Open"), ("stat", "A"), ("row", "Shut"), ("row", "After"), ("stat", "E")]
    open_row, a, shut, after, e = d["panels"]
    assert open_row["collapsed"] is False and open_row["panels"] == []
    assert shut["collapsed"] is True
    assert [p["title"] for p in shut["panels"]] == ["B", "C", "D"]
    # nested panels sit just below their row (where Grafana puts them when it is expanded)
    assert shut["gridPos"]["y"] == a["gridPos"]["y"] + a["gridPos"]["h"]
    nested = [p["gridPos"] for p in shut["panels"]]
    assert min(g["y"] for g in nested) == shut["gridPos"]["y"] + 1
    assert nested[0]["x"] == 0 and nested[1]["x"] == 12 and nested[2]["y"] > nested[0]["y"]
    # the collapsed row hides its content: the next row is right below it
    assert after["gridPos"]["y"] == shut["gridPos"]["y"] + 1
    assert e["gridPos"]["y"] == after["gridPos"]["y"] + 1
    check_properties(d)


def test_validate_reads_the_queries_of_nested_panels(load):
    from fleetwatch.validate.dashboards import iter_panels

    d = built_from(load, ROWS)
    titled = {p.get("title"): group for p, group in iter_panels(d)}
    assert {"B", "C", "D"} <= set(titled) and titled["B"] != 0 and titled["A"] == 0
    assert sum(len(p.get("targets", [])) for p, _ in iter_panels(d)) == 5


def built_from(load: Any, text: str) -> dict[str, Any]:
    return normalize(render(load(text)), "d.yaml", "fw-test")


PIE = """\
title: Pies
panels:
  - type: pie
    title: Servers by environment
    unit: none
    expr: count by (environment) (instance:maintenance:inventory)
    legend: "{{environment}}"
  - type: pie
    title: Hosts up and down
    unit: none
    donut: true
    slice_labels: [name, value]
    queries:
      - {expr: 'count(up == 1)', legend: up, instant: false}
      - {expr: 'count(up == 0)', legend: down}
"""


def test_pie_is_grafanas_piechart(load):
    d = built_from(load, PIE)
    check_properties(d)
    disc, ring = d["panels"]
    assert disc["type"] == ring["type"] == "piechart"
    assert disc["options"]["pieType"] == "pie" and ring["options"]["pieType"] == "donut"
    assert disc["options"]["displayLabels"] == ["percent"]
    assert ring["options"]["displayLabels"] == ["name", "value"]
    assert disc["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
    assert disc["options"]["legend"]["values"] == ["value", "percent"]
    defaults = disc["fieldConfig"]["defaults"]
    assert defaults["unit"] == "none" and defaults["color"]["mode"] == "palette-classic"
    assert defaults["custom"]["hideFrom"] == {"legend": False, "tooltip": False, "viz": False}
    # one value per slice: instant unless a query says otherwise
    assert disc["targets"][0]["instant"] is True
    assert [t["instant"] for t in ring["targets"]] == [False, True]
    assert disc["targets"][0]["legendFormat"] == "{{environment}}"
    assert (disc["gridPos"]["w"], disc["gridPos"]["h"]) == (8, 8)
    assert ring["gridPos"]["x"] == 8  # auto-placed beside the first


def test_pie_keys_belong_to_pies(problems):
    errors = problems(
        "title: T\npanels:\n"
        "  - {type: stat, title: S, unit: none, expr: up, donut: true}\n"
        "  - {type: pie, title: P, expr: up}\n"
    )
    text = "\n".join(str(e) for e in errors)
    assert "d.yaml:3: 'donut' only applies to pie panels" in text
    assert "d.yaml:4: a pie panel needs a unit" in text
    (error,) = problems("title: T\npanels:\n  - {type: pie, title: P, unit: none, expr: up,"
                        " slice_labels: [colour]}\n")  # fmt: skip
    assert "must be one of 'name', 'value', 'percent'" in str(error)
