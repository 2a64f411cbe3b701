"""Report formats: text, json, junit (parsed back with xml.etree), github annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from fleetwatch.validate.findings import Finding
from fleetwatch.validate.report import render

FINDINGS = [
    Finding("d.json", "panel-units", "no unit: set it", 'panel 2 "CPU, busy"', "error", 12),
    Finding("d.json", "datasource-variable", "named ds", "", "warning"),
    Finding(
        "r.yml", "promtool-rules", "line one\nline 2: 100%", 'group "g" rule 1 "x"', "error", 5
    ),
]
CHECKED = {
    "d.json": ["panel-units", "datasource-variable", "uid"],
    "r.yml": ["promtool-rules"],
    "ok.json": ["uid"],
}


def test_text() -> None:
    lines = render(FINDINGS, "text", CHECKED).splitlines()
    assert lines[0] == 'd.json:12: error panel-units panel 2 "CPU, busy": no unit: set it'
    assert lines[1] == "d.json: warning datasource-variable: named ds"
    assert lines[-1] == "2 errors, 1 warning in 2 files (3 checked)"


def test_json() -> None:
    doc = json.loads(render(FINDINGS, "json", CHECKED))
    assert doc["summary"] == {"errors": 2, "warnings": 1, "info": 0, "files_checked": 3}
    assert doc["findings"][0]["location"] == 'panel 2 "CPU, busy"'
    assert doc["findings"][0]["line"] == 12


def test_junit() -> None:
    root = ET.fromstring(render(FINDINGS, "junit", CHECKED))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("5", "2")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"d.json", "r.yml", "ok.json"}
    cases = {c.get("name"): c for c in suites["d.json"].iter("testcase")}
    assert set(cases) == {"panel-units", "datasource-variable", "uid"}
    failure = cases["panel-units"].find("failure")
    assert failure is not None and failure.get("type") == "panel-units"
    assert cases["uid"].find("failure") is None
    assert cases["datasource-variable"].find("failure") is None
    out = cases["datasource-variable"].find("system-out")
    assert out is not None and "named ds" in (out.text or "")
    assert suites["ok.json"].get("failures") == "0"


def test_github() -> None:
    lines = render(FINDINGS, "github", CHECKED).splitlines()
    assert lines[0] == (
        '::error file=d.json,line=12,title=panel-units::panel 2 "CPU, busy": no unit: set it'
    )
    assert lines[1] == "::warning file=d.json,title=datasource-variable::named ds"
    assert lines[2].endswith('::group "g" rule 1 "x": line one%0Aline 2: 100%25')
    assert lines[3].startswith("2 errors")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render([], "xml", {})
