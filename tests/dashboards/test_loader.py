"""YAML -> model: defaults, and every error naming file:line and key path."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fleetwatch.dashboards.loader import dashboard_from_text
from fleetwatch.errors import ConfigError, ConfigErrors

OneProblem = Callable[[str], ConfigError]


def test_minimal_dashboard_gets_defaults(load):
    d = load(
        """\
        title: T
        panels:
          - type: stat
            title: Up
            unit: none
            expr: up
        """
    )
    assert (d.refresh, d.time_from, d.time_to) == ("30s", "now-6h", "now")
    (panel,) = d.panels
    assert panel.queries[0].ref == "A" and panel.queries[0].format == "time_series"
    assert panel.line == 3


def test_refs_are_assigned_around_given_ones(load):
    d = load(
        """\
        title: T
        panels:
          - type: timeseries
            title: X
            unit: s
            queries:
              - {expr: a}
              - {expr: b, ref: A}
              - {expr: c}
        """
    )
    assert [q.ref for q in d.panels[0].queries] == ["B", "A", "C"]


def test_table_queries_default_to_instant_tables(load):
    d = load("title: T\npanels:\n  - {type: table, title: X, unit: s, expr: up}\n")
    q = d.panels[0].queries[0]
    assert (q.format, q.instant) == ("table", True)


def test_query_variable_defaults(load):
    d = load(
        """\
        title: T
        variables:
          - name: deployment
            query: label_values(up, deployment)
            multi: true
            include_all: true
        """
    )
    (v,) = d.variables
    assert (v.type, v.all_value, v.multi) == ("query", ".+", True)


def test_missing_unit_names_line_and_key(one_problem: OneProblem):
    error = one_problem(
        """\
        title: T
        panels:
          - type: stat
            title: Up
            unit: none
            expr: up
          - type: timeseries
            title: CPU
            expr: up
        """
    )
    assert (error.file, error.line, error.key) == ("d.yaml", 7, "panels[1].unit")
    assert "needs a unit" in error.message
    assert error.message.startswith("d.yaml:7: ")


def test_unknown_widget_type(one_problem: OneProblem):
    error = one_problem("title: T\npanels:\n  - type: grpah\n    title: X\n")
    assert (error.line, error.key) == (3, "panels[0].type")
    assert "'grpah'" in error.message and "did you mean 'graph'" not in error.message


def test_unknown_key_suggests(one_problem: OneProblem):
    error = one_problem("title: T\npanels:\n  - type: stat\n    title: X\n    unitt: s\n")
    assert (error.line, error.key) == (5, "panels[0].unitt")
    assert "did you mean 'unit'?" in error.message


def test_bad_yaml_is_one_error_with_line():
    with pytest.raises(ConfigErrors) as info:
        dashboard_from_text("title: T\npanels:\n  - type: stat\n   title: [\n", "bad.yaml")
    (error,) = info.value.errors
    assert error.file == "bad.yaml" and error.line == 4
    assert "YAML syntax error" in error.message


def test_not_a_mapping():
    with pytest.raises(ConfigErrors) as info:
        dashboard_from_text("- a\n- b\n", "l.yaml")
    assert info.value.errors[0].line == 1


def test_all_problems_are_collected(problems):
    errors = problems(
        """\
        title: T
        panels:
          - type: timeseries
            title: A
            expr: up
          - type: gauge
            unit: s
            queries: [{expr: up, ref: A}, {expr: up, ref: A}]
          - type: text
        """
    )
    found = {(e.line, e.key) for e in errors}
    assert (3, "panels[0].unit") in found
    assert (6, "panels[1]") in found  # no title
    assert (8, "panels[1].queries[1].ref") in found
    assert (9, "panels[2]") in found  # text without content


def test_expr_and_queries_are_exclusive(one_problem: OneProblem):
    error = one_problem(
        "title: T\npanels:\n  - type: stat\n    title: X\n    unit: s\n"
        "    expr: up\n    queries: [{expr: up}]\n"
    )
    assert (error.line, error.key) == (6, "panels[0].expr")


def test_unknown_variable_in_query(one_problem: OneProblem):
    error = one_problem(
        """\
        title: T
        variables:
          - {name: instance, query: 'label_values(up, instance)'}
        panels:
          - type: stat
            title: X
            unit: s
            expr: up{instance="$instanse", host=~"${instance:regex}"} + rate(x[$__rate_interval])
        """
    )
    assert (error.line, error.key) == (8, "panels[0].expr")
    assert "$instanse" in error.message and "did you mean 'instance'?" in error.message


def test_duplicate_variable_and_wrong_datasource_type(problems):
    errors = problems(
        """\
        title: T
        variables:
          - {name: datasource, type: query, query: x}
          - {name: a, type: custom, values: [x]}
          - {name: a, type: custom, values: [y]}
        """
    )
    found = {(e.line, e.key) for e in errors}
    assert found == {(3, "variables[0].type"), (5, "variables[2].name")}


def test_overlapping_explicit_panels_name_both(one_problem: OneProblem):
    error = one_problem(
        """\
        title: T
        panels:
          - {type: stat, title: First, unit: s, expr: up, grid: {x: 0, y: 0, w: 12, h: 4}}
          - {type: stat, title: Second, unit: s, expr: up, grid: {x: 6, y: 2, w: 12, h: 4}}
        """
    )
    assert (error.line, error.key) == (4, "panels[1].grid")
    assert "'Second'" in error.message and "'First'" in error.message


def test_grid_past_the_right_edge(one_problem: OneProblem):
    error = one_problem(
        "title: T\npanels:\n  - {type: stat, title: A, unit: s, expr: up, "
        "grid: {x: 20, y: 0, w: 6, h: 4}}\n"
    )
    assert error.key == "panels[0].grid" and "past 24" in error.message


def test_link_needs_url_or_explore(one_problem: OneProblem):
    error = one_problem(
        "title: T\npanels:\n  - type: stat\n    title: A\n    unit: s\n    expr: up\n"
        "    links:\n      - title: nowhere\n"
    )
    assert (error.line, error.key) == (8, "panels[0].links[0]")


def test_explore_link_builds_a_url(load):
    d = load(
        """\
        title: T
        variables: [{name: instance, query: 'label_values(up, instance)'}]
        panels:
          - type: stat
            title: A
            unit: s
            expr: up
            links:
              - title: Logs
                explore: {datasource: fleetwatch-loki, expr: '{instance="$instance"}'}
        """
    )
    link = d.panels[0].links[0]
    assert link.url.startswith("/explore?") and "fleetwatch-loki" in link.url
    assert "$instance" in link.url and "${__from}" in link.url
    assert link.new_tab


def test_bad_uid(one_problem: OneProblem):
    error = one_problem("title: T\nuid: 'has space'\n")
    assert (error.line, error.key) == (2, "uid")
