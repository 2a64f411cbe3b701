"""What a file holds: dashboards, rule groups, a Prometheus or Alertmanager config.

Reads what users point ``validate`` at, in the shapes they come in: Grafana JSON (an API
export ``{"dashboard": ...}`` too, ``__inputs`` of an exported file), rule files in YAML or
JSON, ``PrometheusRule`` custom resources, ConfigMaps holding dashboards or rule files (and
``kind: List`` of those, and ``---`` streams of many), grafana-operator ``GrafanaDashboard``
resources.  Each is an ``Item`` that keeps its file and the line where its part starts.
A file named on the command line that is none of these is an error; one met in a folder walk
is listed as skipped (``info``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fleetwatch.config.inputs import load_json, read_input
from fleetwatch.config.yamlpos import Document, YamlLimitError, load_yaml_all
from fleetwatch.errors import ConfigError
from fleetwatch.validate.findings import Finding, Rule

RULES: dict[str, Rule] = {
    "parse": Rule("the file can be read and parsed"),
    "unknown-file": Rule("a file named on the command line is a dashboard, rules or a config"),
    "skipped-file": Rule("(info) a file in a folder walk that is none of the known kinds", "info"),
}
_DASHBOARD_KEYS = ("panels", "templating", "schemaVersion", "rows")
_SUFFIXES = (".json", ".yml", ".yaml")


@dataclass
class Item:
    path: Path
    kind: str  # dashboard rules config alertmanager
    data: Any = None
    text: str = ""
    #: 1-based line of a JSON path inside ``data`` (rules), or the offset of ``text`` (dashboards)
    line_of: Callable[[tuple[Any, ...]], int | None] = lambda path: None
    line_offset: int = 0
    #: the part of the file, for a file holding several (``ConfigMap x key y.json``)
    part: str = ""
    #: the file promtool reads (the file itself, or the groups written out on their own)
    standalone: bool = True
    own: bool = False

    @property
    def file(self) -> str:
        return str(self.path)


def load(
    path: Path, kind: str | None, named: bool, own: bool = False
) -> tuple[list[Item], list[Finding]]:
    """The items of ``path`` (``kind`` given: the file is known to be that)."""
    file = str(path)
    if kind is None and path.suffix not in _SUFFIXES:
        return [], [_unknown(file, named, f"a {path.suffix or 'file without suffix'} file")]
    try:
        text = read_input(path)
    except ConfigError as exc:
        return [], [Finding(file, "parse", exc.detail, line=exc.line)]
    if path.suffix == ".json":
        try:
            data = load_json(text, file)
        except ConfigError as exc:
            return [], [Finding(file, "parse", exc.detail, line=exc.line)]
        if _is_file_sd(data) and kind is None:
            return [], []  # file_sd targets: promtool check config reads them
        docs = [Document(data, {(): 1})]
    else:
        try:
            docs = load_yaml_all(text, file)
        except YamlLimitError as exc:
            return [], [Finding(file, "parse", exc.detail, line=exc.line)]
        except ConfigError as exc:
            return [], [Finding(file, "parse", exc.detail, line=exc.line)]
        except yaml.YAMLError as exc:
            return [], [Finding(file, "parse", f"invalid YAML: {exc}".splitlines()[0])]
    items: list[Item] = []
    findings: list[Finding] = []
    for doc in docs:
        if doc.data is None:
            continue
        found, problems = _classify(path, doc, text, kind, len(docs) > 1)
        items += found
        findings += problems
    for item in items:
        item.own = own
    if not items and not findings:
        if kind is None and _is_known_other(docs):
            return [], []
        findings.append(
            _unknown(
                file,
                named,
                "not a dashboard, rule file, PrometheusRule, "
                "ConfigMap of those, Prometheus or Alertmanager config",
            )
        )
    return items, findings


def _unknown(file: str, named: bool, what: str) -> Finding:
    if named:
        return Finding(file, "unknown-file", f"{what}: nothing was checked")
    return Finding(file, "skipped-file", f"{what}: skipped", severity="info")


def _is_known_other(docs: list[Document]) -> bool:
    """promtool unit-test files, file_sd YAML: read by the tools that use them."""
    present = [d.data for d in docs if d.data is not None]
    return bool(present) and all(
        (isinstance(d, dict) and "tests" in d and "rule_files" in d) or _is_file_sd(d)
        for d in present
    )


def _is_file_sd(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(g, dict) and isinstance(g.get("targets"), list) for g in data)
    )


def _classify(
    path: Path, doc: Document, text: str, kind: str | None, multi: bool
) -> tuple[list[Item], list[Finding]]:
    data = doc.data
    if (
        isinstance(data, dict)
        and (kind == "dashboard" or _is_dashboard(data))
        and (path.suffix == ".json" or text.lstrip().startswith("{"))  # JSON saved as .yaml
    ):
        return [Item(path, "dashboard", data, text)], []
    if _is_rule_file(data) and (kind in (None, "rules")):
        return [_rules_item(path, data, doc, (), standalone=not multi)], []
    if not isinstance(data, dict):
        return [], []
    res = str(data.get("kind", ""))
    if (
        kind == "config"
        or "scrape_configs" in data
        or ("rule_files" in data and "tests" not in data)
    ):
        return [Item(path, "config", data, text)], []
    if kind == "alertmanager" or ("route" in data and "receivers" in data):
        return [Item(path, "alertmanager", data, text)], []
    raw_spec = data.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    if res == "PrometheusRule" and _is_rule_file(spec):
        meta = data.get("metadata")
        name = str(meta.get("name", "")) if isinstance(meta, dict) else ""
        return [
            _rules_item(
                path, spec, doc, ("spec",), standalone=False, part=f"PrometheusRule {name}".strip()
            )
        ], []
    if res in ("List", "ConfigMapList") and isinstance(data.get("items"), list):
        items: list[Item] = []
        problems: list[Finding] = []
        for i, sub in enumerate(data["items"]):
            sub_doc = Document(
                sub, {k[2:]: v for k, v in doc.lines.items() if k[:2] == ("items", i)}
            )
            found, bad = _classify(path, sub_doc, text, kind, True)
            items += found
            problems += bad
        return items, problems
    if res == "ConfigMap" and isinstance(data.get("data"), dict):
        return _configmap(path, data, doc)
    if res == "GrafanaDashboard" and isinstance(spec.get("json"), str):
        return _embedded(path, spec["json"], doc, ("spec", "json"), "GrafanaDashboard")
    return [], []


def _is_dashboard(data: dict[str, Any]) -> bool:
    if isinstance(data.get("dashboard"), dict):
        return True
    return any(k in data for k in _DASHBOARD_KEYS)


def _is_rule_file(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("groups"), list)


def _rules_item(
    path: Path,
    data: Any,
    doc: Document,
    prefix: tuple[Any, ...],
    *,
    standalone: bool,
    part: str = "",
) -> Item:
    def line_of(key: tuple[Any, ...]) -> int | None:
        return doc.line((*prefix, *key))

    return Item(path, "rules", data, "", line_of, 0, part, standalone)


def _configmap(path: Path, data: dict[str, Any], doc: Document) -> tuple[list[Item], list[Finding]]:
    meta = data.get("metadata")
    name = str(meta.get("name", "")) if isinstance(meta, dict) else ""
    items: list[Item] = []
    problems: list[Finding] = []
    entries = data.get("data")
    for key, value in (entries if isinstance(entries, dict) else {}).items():
        if not isinstance(value, str):
            continue
        part = f"ConfigMap {name} key {key}".replace("  ", " ")
        if str(key).endswith(".json") or value.lstrip().startswith("{"):
            found, bad = _embedded(path, value, doc, ("data", key), part)
        elif str(key).endswith((".yml", ".yaml", ".rules")):
            found, bad = _embedded_rules(path, value, doc, ("data", key), part)
        else:
            continue
        items += found
        problems += bad
    return items, problems


def _embedded(
    path: Path, text: str, doc: Document, at: tuple[Any, ...], part: str
) -> tuple[list[Item], list[Finding]]:
    file = str(path)
    start = doc.line(at)
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = start + getattr(exc, "lineno", 1)
        return [], [Finding(file, "parse", f"{part}: invalid JSON: {exc}", line=line)]
    if not isinstance(data, dict) or not _is_dashboard(data):
        return [], []
    return [Item(path, "dashboard", data, text, line_offset=start, part=part)], []


def _embedded_rules(
    path: Path, text: str, doc: Document, at: tuple[Any, ...], part: str
) -> tuple[list[Item], list[Finding]]:
    start = doc.line(at)
    try:
        docs = load_yaml_all(text, str(path))
    except ConfigError as exc:
        return [], [
            Finding(str(path), "parse", f"{part}: {exc.detail}", line=start + (exc.line or 0))
        ]
    items = []
    for sub in docs:
        if _is_rule_file(sub.data):
            shifted = Document(sub.data, {k: v + start for k, v in sub.lines.items()})
            items.append(_rules_item(path, sub.data, shifted, (), standalone=False, part=part))
    return items, []
