"""docs/validate/rules/<id>.md: one page per rule id, and their examples run.

A page's Bad and Fixed examples are fenced blocks whose info string says how to run them:
``yaml rules`` (a whole rule file), ``json dashboard`` (a whole dashboard), ``promql panel`` (one
panel query, wrapped in a clean modern dashboard), ``promql alert`` (one alert expression,
wrapped in a clean alert), ``yaml prometheus`` / ``yaml alertmanager`` (a whole config, checked by
promtool / amtool), ``yaml exceptions`` (an exceptions file, applied to a run over a clean
dashboard); a trailing ``build`` puts the file in a minimal ``fleetwatch build`` tree
(closed-world catalog, known scrape interval).  ``text`` blocks are not run.  Each Bad
example must be reported with the page's rule (and no other) under ``--profile strict``; each
Fixed example must be clean.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fleetwatch.validate import all_rules
from fleetwatch.validate.engine import run
from fleetwatch.validate.findings import Finding
from fleetwatch.validate.policy import Policy
from fleetwatch.validate.promtool import Amtool, Promtool
from servers import require

DOCS = Path(__file__).resolve().parents[2] / "docs" / "validate"
PAGES = DOCS / "rules"
SECTIONS = ("## What it catches", "## Why", "## Bad", "## Fixed", "## Turning it off")
RUNNABLE = {
    ("yaml", "rules"),
    ("json", "dashboard"),
    ("promql", "panel"),
    ("promql", "alert"),
    ("yaml", "prometheus"),
    ("yaml", "alertmanager"),
    ("yaml", "exceptions"),
}
#: the file name each whole-file kind is written to
FILE_NAMES = {
    "rules": "example.yml",
    "dashboard": "example.json",
    "prometheus": "prometheus.yml",
    "alertmanager": "alertmanager.yml",
}
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)
_SECTION = re.compile(r"^## .*$", re.M)

DS = {"type": "prometheus", "uid": "${datasource}"}
PANEL_UID = "fw-doc-example"


@dataclass(frozen=True)
class Example:
    rule: str
    kind: str  # bad / fixed
    index: int
    info: tuple[str, ...]
    body: str

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.kind}{self.index}"

    @property
    def runnable(self) -> bool:
        return tuple(self.info[:2]) in RUNNABLE


def _section(text: str, title: str) -> str:
    start = text.index(title) + len(title)
    nxt = _SECTION.search(text, start)
    return text[start : nxt.start() if nxt else len(text)]


def examples_of(rule: str, text: str) -> list[Example]:
    out = []
    for kind, title in (("bad", "## Bad"), ("fixed", "## Fixed")):
        for i, m in enumerate(_FENCE.finditer(_section(text, title))):
            out.append(Example(rule, kind, i, tuple(m[1].split()), m[2]))
    return out


def _pages() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.md"))}


def _all_examples() -> list[Example]:
    return [e for rule, text in _pages().items() for e in examples_of(rule, text)]


EXAMPLES = [e for e in _all_examples() if e.runnable]


def test_every_rule_has_a_page_and_every_page_is_a_rule() -> None:
    assert set(_pages()) == set(all_rules())


@pytest.mark.parametrize("rule", sorted(all_rules()))
def test_page_shape(rule: str) -> None:
    text = (PAGES / f"{rule}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {rule}\n")
    meaning = all_rules()[rule]
    head = text.split("\n## ", 1)[0]
    assert f"Severity: **{meaning.severity}**" in head
    assert ("house style" in head) == meaning.style
    positions = [text.find(s) for s in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    found = examples_of(rule, text)
    assert {e.kind for e in found} == {"bad", "fixed"}
    for e in found:
        assert e.runnable or e.info[:1] == ("text",), (e.id, e.info)
        assert e.info[2:] in ((), ("build",)), (e.id, e.info)
    assert f"--disable {rule}" in _section(text, "## Turning it off")


def test_index_lists_every_rule() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for rule, meaning in all_rules().items():
        level = "style" if meaning.style else meaning.severity
        assert f"| [{rule}](rules/{rule}.md) | {level} |" in index, rule


def _panel_dashboard(expr: str) -> dict[str, object]:
    return {
        "uid": PANEL_UID,
        "title": "Rule example",
        "schemaVersion": 39,
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]
        },
        "panels": [
            {
                "id": 1,
                "type": "timeseries",
                "title": "Example",
                "gridPos": {"h": 8, "w": 24, "x": 0, "y": 0},
                "datasource": DS,
                "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
                "targets": [{"refId": "A", "datasource": DS, "expr": expr}],
            }
        ],
    }


def _alert_file(expr: str) -> str:
    rule = {
        "alert": "ExampleAlert",
        "expr": expr,
        "for": "5m",
        "labels": {"severity": "warning"},
        "annotations": {
            "summary": "The example condition holds.",
            "description": "The value is {{ $value }}.",
            "runbook_url": "https://runbooks.example.com/ExampleAlert",
            "dashboard_url": f"https://grafana.example.com/d/{PANEL_UID}/rule-example",
        },
    }
    return yaml.safe_dump({"groups": [{"name": "example", "rules": [rule]}]}, sort_keys=False)


def write_example(e: Example, tmp: Path) -> Path:
    """The file the example becomes (in a minimal build tree for ``build`` examples)."""
    what = e.info[1]
    body = e.body.strip()
    if what == "panel":
        text, name = json.dumps(_panel_dashboard(body), indent=2), FILE_NAMES["dashboard"]
    elif what == "alert":
        text, name = _alert_file(body), FILE_NAMES["rules"]
    else:
        text, name = e.body, FILE_NAMES[what]
    suffix = Path(name).suffix
    folder = tmp
    if "build" in e.info[2:]:
        build = tmp / "build"
        (build / "prometheus" / "rules").mkdir(parents=True)
        (build / "grafana" / "dashboards").mkdir(parents=True)
        (build / "prometheus" / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1m\n", encoding="utf-8"
        )
        (build / "grafana" / "dashboards" / "reference.json").write_text(
            json.dumps(_panel_dashboard("node_load1")), encoding="utf-8"
        )
        folder = build / ("grafana/dashboards" if suffix == ".json" else "prometheus/rules")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def findings_of(e: Example, tmp: Path, promtool: Promtool) -> list[Finding]:
    strict = Policy("strict")
    if e.info[1] == "exceptions":
        exceptions = tmp / ".fleetwatch-exceptions.yaml"
        exceptions.write_text(e.body, encoding="utf-8")
        clean = Example(e.rule, e.kind, e.index, ("promql", "panel"), "node_load1")
        paths = [write_example(clean, tmp)]
        return run(paths, exceptions=exceptions, promtool=promtool, policy=strict).findings
    amtool = None
    if e.info[1] == "alertmanager":
        require("amtool")
        amtool = Amtool.find()
    path = write_example(e, tmp)
    return run([path], promtool=promtool, amtool=amtool, policy=strict).findings


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(example: Example, tmp_path: Path, promtool: Promtool) -> None:
    findings = findings_of(example, tmp_path, promtool)
    shown = [(f.rule, f.message) for f in findings]
    if example.kind == "bad":
        # the example shows this rule and nothing else
        assert {f.rule for f in findings} == {example.rule}, shown
    else:
        assert shown == []


def test_the_examples_are_run() -> None:
    """Most rules have a runnable bad and fixed example (the rest say why in text blocks)."""
    runnable = {e.rule for e in EXAMPLES if e.kind == "bad"} & {
        e.rule for e in EXAMPLES if e.kind == "fixed"
    }
    assert len(runnable) >= 46
