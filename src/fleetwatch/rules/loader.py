"""Read rules/config.yaml and rules/*.yaml: schema and semantic checks, then the model.

Every problem of every file is reported at once as ``ConfigErrors`` (``file:line: message
(key.path)``), like the inventory and dashboard loaders.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator

from fleetwatch.config.durations import parse_duration
from fleetwatch.config.findings import Findings, string_keys
from fleetwatch.config.inputs import read_input
from fleetwatch.config.schema import schema_messages
from fleetwatch.config.yamlpos import JsonPath, load_yaml
from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.layout import INVENTORY_RULES
from fleetwatch.rules import templates
from fleetwatch.rules.model import (
    Alert,
    AlertTest,
    Config,
    Recording,
    RuleSource,
    Slo,
    Threshold,
)
from fleetwatch.rules.shorthands import SHORTHANDS
from fleetwatch.rules.slo import alert_name

CONFIG_FILE = "config.yaml"
RESERVED_STEMS = frozenset({Path(INVENTORY_RULES).stem})  # the inventory's rule file is taken
CAMEL_CASE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z0-9][A-Za-z0-9]*)*$")
RECORD_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+$")
STEM = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
WINDOW_PLACEHOLDER = "{{window}}"
RESERVED_LABELS = frozenset({"severity", "alertname", "slo"})


@cache
def schema() -> dict[str, Any]:
    text = resources.files("fleetwatch.rules").joinpath("schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _validator(root: str | None) -> Any:
    s = schema()
    return Draft202012Validator(s if root is None else {"$defs": s["$defs"], "$ref": root})


def _parse(path: Path, root: str | None, errors: list[ConfigError]) -> tuple[Any, Findings]:
    file = str(path)
    doc = load_yaml(read_input(path, "rules file"), file)
    findings = Findings(file, doc)
    data = string_keys(doc.data if doc.data is not None else {}, (), findings)
    if not isinstance(data, dict):
        findings.add((), "must be a mapping")
        return {}, findings
    for error in _validator(root).iter_errors(data):
        for where, message in schema_messages(error):
            findings.add(where, message)
    return data, findings


def load_config(path: Path, grafana_url: str) -> Config:
    """``rules/config.yaml`` (optional): runbook_url_pattern, grafana_url."""
    if not path.is_file():
        return Config(grafana_url=grafana_url)
    errors: list[ConfigError] = []
    data, findings = _parse(path, "#/$defs/config", errors)
    if findings:
        raise findings.error()
    return Config(
        runbook_url_pattern=data.get("runbook_url_pattern"),
        grafana_url=data.get("grafana_url", grafana_url),
    )


def load_sources(src_dir: Path, config: Config) -> list[RuleSource]:
    """Every ``src_dir/*.yaml`` except config.yaml, sorted by name; ``ConfigErrors`` if bad."""
    paths = sorted(p for p in src_dir.glob("*.yaml") if p.is_file() and p.name != CONFIG_FILE)
    sources: list[RuleSource] = []
    problems: list[ConfigError] = []
    names: dict[str, str] = {}  # alert name -> "file:line" of its first definition
    for path in paths:
        data, findings = _parse(path, None, problems)
        if path.stem in RESERVED_STEMS or not STEM.match(path.stem):
            findings.add((), f"file name {path.name!r} is reserved or invalid; rename the file")
        source = _Semantics(findings, config, names).source(path, data)
        if findings:
            problems += findings.error().errors
        else:
            sources.append(source)
    if problems:
        raise ConfigErrors(problems)
    return sources


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


class _Semantics:
    def __init__(self, findings: Findings, config: Config, names: dict[str, str]) -> None:
        self.f = findings
        self.config = config
        self.names = names

    def duration(self, path: JsonPath, text: Any) -> float:
        if not isinstance(text, str):
            return 0.0
        try:
            return parse_duration(text)
        except ValueError as exc:
            self.f.add(path, str(exc))
            return 0.0

    def name(self, path: JsonPath, name: Any, slo: bool = False) -> None:
        if not isinstance(name, str):
            return
        if not slo and not CAMEL_CASE.match(name):
            self.f.add(path, f"alert name {name!r} must be CamelCase (like HostHighCpu)")
        where = f"{self.f.file}:{self.f.doc.line(path)}"
        first = self.names.setdefault(name, where)
        if first != where:
            self.f.add(path, f"duplicate alert name {name!r} (first defined at {first})")

    def texts(self, path: JsonPath, item: dict[str, Any]) -> None:
        summary = item.get("summary")
        if isinstance(summary, str) and (
            templates.has_template(summary)
            or not summary[:1].isupper()
            or not summary.endswith(".")
        ):
            self.f.add(
                (*path, "summary"),
                "summary must be a plain sentence: a capital first, a period last, no {{ }}",
            )
        for key in ("description", "runbook"):
            text = item.get(key)
            if isinstance(text, str):
                try:
                    templates.check(text)
                except templates.UnsupportedTemplate as exc:
                    self.f.add((*path, key), str(exc))
        if not item.get("runbook") and not self.config.runbook_url_pattern:
            self.f.add(path, "no runbook: set runbook_url_pattern in rules/config.yaml or runbook:")
        for label in sorted(set(item.get("labels") or {}) & RESERVED_LABELS):
            self.f.add((*path, "labels", label), f"label {label!r} is set by fleetwatch")

    def source(self, path: Path, data: dict[str, Any]) -> RuleSource:
        alerts = [self.alert(("alerts", i), a) for i, a in enumerate(_list(data.get("alerts")))]
        recs = [
            self.recording(("recording", i), r) for i, r in enumerate(_list(data.get("recording")))
        ]
        slos = [self.slo(("slos", i), s) for i, s in enumerate(_list(data.get("slos")))]
        if "interval" in data:
            self.duration(("interval",), data["interval"])
        by = (
            data.get("aggregates", {}).get("by", [])
            if isinstance(data.get("aggregates"), dict)
            else []
        )
        return RuleSource(
            path=str(path),
            name=path.stem,
            alerts=tuple(a for a in alerts if a is not None),
            recording=tuple(r for r in recs if r is not None),
            aggregates=tuple(b for b in by if isinstance(b, str)),
            slos=tuple(s for s in slos if s is not None),
            interval=data.get("interval"),
            group=data.get("group"),
        )  # fmt: skip

    def alert(self, path: JsonPath, a: Any) -> Alert | None:
        if not isinstance(a, dict):
            return None
        self.name((*path, "alert"), a.get("alert"))
        seconds = self.duration((*path, "for"), a.get("for", "0s"))
        self.texts(path, a)
        metric, expr, test = a.get("metric"), a.get("expr"), a.get("test")
        if (metric is None) == (expr is None):
            self.f.add(path, "give exactly one of metric: (a shorthand) or expr: (PromQL)")
        if expr is not None and not isinstance(test, dict):
            self.f.add(path, "an expr: alert needs a test: block (input_series, labels, value)")
        if metric is not None and test is not None:
            self.f.add((*path, "test"), "metric: alerts get generated tests; remove test:")
        scope = a.get("scope", "all")
        if isinstance(scope, str) and scope != "all":
            self.f.add((*path, "scope"), f"scope must be 'all' or a mapping; got {scope!r}")
        shorthand = SHORTHANDS.get(metric) if isinstance(metric, str) else None
        if isinstance(scope, dict) and (expr is not None or (shorthand and not shorthand.host)):
            self.f.add((*path, "scope"), "scope applies to host metrics only; filter in expr:")
        threshold = a.get("threshold")
        if isinstance(threshold, dict) and "inventory" in threshold:
            thr = Threshold(inventory=str(threshold["inventory"]))
        elif isinstance(threshold, int | float) and not isinstance(threshold, bool):
            thr = Threshold(value=_dec(threshold))
        else:
            return None
        if test is not None and isinstance(test, dict):
            self.duration((*path, "test", "eval_time"), test.get("eval_time", "0s"))
        if self.f:
            return None
        return Alert(
            name=a["alert"],
            op=a["op"],
            threshold=thr,
            severity=a["severity"],
            summary=a["summary"],
            description=a["description"],
            for_=a.get("for", "0s"),
            for_seconds=seconds,
            metric=metric,
            expr=expr,
            scope=scope if isinstance(scope, dict) else {},
            include_maintenance=bool(a.get("include_maintenance", False)),
            down=bool(a.get("down", False)),
            runbook=a.get("runbook"),
            dashboard=a.get("dashboard"),
            labels=a.get("labels", {}),
            test=_test(test) if isinstance(test, dict) else None,
            line=self.f.doc.line(path),
        )

    def recording(self, path: JsonPath, r: Any) -> Recording | None:
        if not isinstance(r, dict):
            return None
        record = r.get("record")
        if isinstance(record, str) and not RECORD_NAME.match(record):
            self.f.add(
                (*path, "record"),
                f"recording rule name {record!r} must be level:metric:operations "
                "(like deployment:node_cpu_used_cores:sum_rate5m)",
            )
        if self.f:
            return None
        return Recording(r["record"], r["expr"], r.get("labels", {}))

    def slo(self, path: JsonPath, s: Any) -> Slo | None:
        if not isinstance(s, dict):
            return None
        if isinstance(s.get("name"), str):
            self.name((*path, "name"), alert_name(s["name"]), slo=True)
        sli: dict[str, Any] = s["sli"] if isinstance(s.get("sli"), dict) else {}
        queries = [k for k in ("error_query", "total_query") if k in sli]
        if ("probes" in sli) == bool(queries) or (queries and len(queries) != 2):
            self.f.add((*path, "sli"), "sli needs probes: {} or both error_query and total_query")
        for key in queries:
            if WINDOW_PLACEHOLDER not in str(sli[key]):
                self.f.add((*path, "sli", key), f"must contain the {WINDOW_PLACEHOLDER} range")
        summary = s.get("summary")
        if summary is not None:
            self.texts(path, {"summary": summary, "runbook": s.get("runbook") or "-"})
        if not s.get("runbook") and not self.config.runbook_url_pattern:
            self.f.add(path, "no runbook: set runbook_url_pattern in rules/config.yaml or runbook:")
        for label in sorted(set(s.get("labels") or {}) & RESERVED_LABELS):
            self.f.add((*path, "labels", label), f"label {label!r} is set by fleetwatch")
        if self.f:
            return None
        severity: dict[str, Any] = s.get("severity") or {}
        probes = sli.get("probes")
        return Slo(
            name=s["name"],
            objective=_dec(s["objective"]),
            error_query=sli.get("error_query"),
            total_query=sli.get("total_query"),
            window=s.get("window", "30d"),
            min_events_per_hour=_dec(s.get("min_events_per_hour", 12)),
            page=severity.get("page", "critical"),
            ticket=severity.get("ticket", "warning"),
            summary=summary,
            runbook=s.get("runbook"),
            dashboard=s.get("dashboard"),
            labels=s.get("labels", {}),
            probe_module=probes.get("module") if isinstance(probes, dict) else None,
            line=self.f.doc.line(path),
        )


def _test(t: dict[str, Any]) -> AlertTest:
    return AlertTest(
        input_series=tuple(
            {"series": str(i["series"]), "values": str(i["values"])} for i in t["input_series"]
        ),
        labels=t["labels"],
        value=float(t["value"]),
        eval_time=t.get("eval_time"),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
