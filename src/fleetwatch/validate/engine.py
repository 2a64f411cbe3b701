"""``validate``: find what to check under the given paths, check it, return sorted findings.

A path is a build directory (``grafana/dashboards/**/*.json``, ``prometheus/prometheus.yml``,
``prometheus/rules/*.yml``, ``alertmanager/alertmanager.yml``), a dashboard JSON, a rule file,
a Prometheus or Alertmanager config, or a folder of those (recursively).  promtool runs once
for all rule files, once for the config and once for the PromQL of all dashboards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetwatch import layout
from fleetwatch.config.inputs import load_json, read_input
from fleetwatch.config.yamlpos import YamlLimitError, load_data
from fleetwatch.errors import ConfigError, ToolUnavailable
from fleetwatch.validate import alert_lints, dashboards, promql, rules
from fleetwatch.validate.alertmanager import RULES as ALERTMANAGER_RULES
from fleetwatch.validate.alertmanager import check_alertmanager
from fleetwatch.validate.exceptions import RULES as EXCEPTION_RULES
from fleetwatch.validate.exceptions import apply_exceptions, load_exceptions
from fleetwatch.validate.findings import Finding, normalize
from fleetwatch.validate.promtool import Amtool, Promtool

#: what the engine itself reports (the checks it runs declare theirs)
RULES: dict[str, str] = {
    "parse": "the file can be read and parsed",
    "unknown-file": "(warning) a file that is none of the known kinds was skipped",
    "promtool-config": "`promtool check config` accepts prometheus.yml (and its rule/sd files)",
}
_DASHBOARD_KEYS = ("panels", "templating", "schemaVersion", "dashboard", "rows")


@dataclass
class Item:
    path: Path
    kind: str  # dashboard rules config alertmanager
    data: Any = None
    text: str = ""

    @property
    def file(self) -> str:
        return str(self.path)


@dataclass
class Result:
    findings: list[Finding]
    checked: dict[str, list[str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


def _load(path: Path, kind: str | None) -> tuple[Item | None, list[Finding]]:
    """Parse ``path``; ``kind`` None: decide from the content (unknown → a warning)."""
    file = str(path)
    try:
        text = read_input(path)
    except ConfigError as exc:
        return None, [Finding(file, "parse", exc.detail, line=exc.line)]
    if path.suffix == ".json":
        try:
            data = load_json(text, file)
        except ConfigError as exc:
            return None, [Finding(file, "schema", exc.detail, line=exc.line)]
        if kind is None and isinstance(data, dict) and any(k in data for k in _DASHBOARD_KEYS):
            kind = "dashboard"
        elif kind is None and isinstance(data, list):
            return None, []  # file_sd targets: promtool check config reads them
    elif path.suffix in (".yml", ".yaml"):
        try:
            data = load_data(text, file)
        except YamlLimitError as exc:
            return None, [Finding(file, "parse", exc.detail, line=exc.line)]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            return None, [Finding(file, "parse", f"invalid YAML: {exc}".splitlines()[0], line=line)]
        if kind is None:
            kind = _yaml_kind(data)
    if kind is None:
        msg = "not a dashboard, rule file, Prometheus or Alertmanager config: skipped"
        return None, [Finding(file, "unknown-file", msg, severity="warning")]
    return Item(path, kind, data, text), []


def _build_prometheus(rule_file: Path) -> Path | None:
    """build/prometheus for a rule file written by `fleetwatch build` (else None)."""
    folder = rule_file.parent.parent
    return folder if (folder / layout.PROMETHEUS_CONFIG).is_file() else None


def _rule_tests(rule_file: Path) -> list[Path]:
    """The promtool unit tests `fleetwatch build` generated for a rule file."""
    folder = _build_prometheus(rule_file)
    if folder is None:
        return []
    test = folder / layout.TESTS_DIR / layout.rule_test_name(rule_file.stem)
    return [test] if test.is_file() else []


def _yaml_kind(data: Any) -> str | None:
    if rules.is_rule_file(data):
        return "rules"
    if isinstance(data, dict) and ("scrape_configs" in data or "rule_files" in data):
        return None if "tests" in data else "config"  # promtool unit-test files are not configs
    if isinstance(data, dict) and "route" in data and "receivers" in data:
        return "alertmanager"
    return None


def discover(paths: Iterable[Path]) -> tuple[list[Item], list[Finding]]:
    items: list[Item] = []
    findings: list[Finding] = []

    seen: set[Path] = set()

    def add(path: Path, kind: str | None) -> None:
        if path.resolve() in seen:
            return
        seen.add(path.resolve())
        item, found = _load(path, kind)
        findings.extend(found)
        if item is not None:
            items.append(item)

    for path in paths:
        if path.is_dir() and (
            layout.dashboards_dir(path).is_dir() or layout.prometheus_config(path).is_file()
        ):
            for dash in sorted(layout.dashboards_dir(path).rglob("*.json")):
                add(dash, "dashboard")
            rule_dir = layout.rules_dir(path)
            for rule_file in sorted([*rule_dir.glob("*.yml"), *rule_dir.glob("*.yaml")]):
                add(rule_file, "rules")
            for cfg, kind in ((layout.prometheus_config(path), "config"),
                              (layout.alertmanager_config(path), "alertmanager")):  # fmt: skip
                if cfg.is_file():
                    add(cfg, kind)
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in sub.relative_to(path).parts)
                if sub.is_file() and not hidden:
                    add(sub, None)
        elif path.is_file():
            add(path, None)
        else:
            findings.append(Finding(str(path), "parse", "no such file or directory"))
    return items, findings


def _is_rate_interval(range_text: str) -> bool:
    tokens = promql.tokenize(range_text)
    return len(tokens) == 1 and promql.var_name(tokens[0].text) == "__rate_interval"


def check_queries(
    queries: Sequence[dashboards.Query],
    tool: Promtool | None,
    known: frozenset[str] | None,
    counters: frozenset[str] = frozenset(),
) -> list[Finding]:
    """promql-syntax (one promtool run), unknown-metric, rate-interval, counter-without-rate."""
    exprs = [q.expr for q in queries]
    errors = promql.check_syntax(exprs, tool) if tool is not None else [None] * len(exprs)
    out: list[Finding] = []
    for q, error in zip(queries, errors, strict=True):

        def add(rule: str, msg: str, q: dashboards.Query = q) -> None:
            out.append(Finding(q.file, rule, f"{q.ref}: {msg}", q.location, "error", q.line))

        if error is not None:
            shown = q.expr if len(q.expr) <= 160 else q.expr[:157] + "..."
            add("promql-syntax", f"{error} in {shown!r}")
            continue
        names = {n for n in promql.metric_names(q.expr) if promql.PLACEHOLDER_MARK not in n}
        for name in sorted(names - known if known is not None else ()):
            add("unknown-metric", f"{name} is not in the catalog (exporters, recording rules)")
        if not q.panel:
            continue
        for func, rng in promql.range_arguments(q.raw, dashboards.RATE_FUNCTIONS):
            if not _is_rate_interval(rng):
                add("rate-interval", f"{func}(...[{rng}]): use [$__rate_interval]")
        bare = {
            s.name
            for s in promql.selectors(q.expr)
            if s.name
            and (s.name.endswith("_total") or s.name in counters)
            and not dashboards.COUNTER_OK.intersection(s.calls)
        }
        for name in sorted(bare):
            add("counter-without-rate", f"counter {name} outside rate/irate/increase")
    return out


def validate(
    paths: list[Path],
    *,
    exceptions: Path | None = None,
    promtool: Promtool | None = None,
    amtool: Amtool | None = None,
    catalog_extra: set[str] = set(),  # noqa: B006 - never mutated
) -> list[Finding]:
    """Sorted, deduplicated findings for ``paths`` (see the module docstring)."""
    return run(
        paths, exceptions=exceptions, promtool=promtool, amtool=amtool, catalog_extra=catalog_extra
    ).findings


def _tools(
    promtool: Promtool | None, amtool: Amtool | None, need_promtool: bool, need_amtool: bool
) -> tuple[Promtool | None, Amtool | None]:
    """The tools this run needs, found once; all that are missing in one ToolUnavailable."""
    problems: list[str] = []
    if need_promtool and promtool is None:
        try:
            promtool = Promtool.find()
        except ToolUnavailable as exc:
            problems.append(exc.message)
    if need_amtool and amtool is None:
        try:
            amtool = Amtool.find()
        except ToolUnavailable as exc:
            problems.append(exc.message)
    if problems:
        raise ToolUnavailable("; ".join(problems))
    return promtool, amtool


def run(
    paths: list[Path],
    *,
    exceptions: Path | None = None,
    promtool: Promtool | None = None,
    amtool: Amtool | None = None,
    catalog_extra: Iterable[str] = (),
) -> Result:
    """``validate`` with the rules checked per file (for the JUnit report)."""
    from fleetwatch.catalog import known_series, module_specs

    items, findings = discover(paths)
    checked: dict[str, list[str]] = {}
    by_kind: dict[str, list[Item]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    needs_promtool = any(k in by_kind for k in ("rules", "config", "dashboard"))
    promtool, amtool = _tools(
        promtool if needs_promtool else None,
        amtool if "alertmanager" in by_kind else None,
        needs_promtool,
        "alertmanager" in by_kind,
    )

    rule_items = by_kind.get("rules", [])
    recorded = {n for item in rule_items for n in rules.recorded_names(item.data)}
    if rule_items and promtool is not None:
        findings += rules.check_rule_files([i.path for i in rule_items], promtool)
    for item in rule_items:
        findings += alert_lints.lint_rule_file(item.path, item.data, _build_prometheus(item.path))
    tests = sorted({t for item in rule_items for t in _rule_tests(item.path)})
    if tests and promtool is not None:
        findings += alert_lints.run_rule_tests(tests, promtool)
    rule_files = {i.file for i in rule_items}
    for item in by_kind.get("config", []):
        assert promtool is not None
        found = promtool.check_config(item.path)
        findings += [f for f in found if f.file not in rule_files]  # reported once, above
    for item in by_kind.get("alertmanager", []):
        # the routing policy it came from, copied beside it by `fleetwatch build`
        policy = item.path.parent / layout.ROUTING_POLICY
        assert amtool is not None
        findings += check_alertmanager(item.path, policy if policy.is_file() else None, amtool)
    for item in items:
        checked[item.file] = {
            "rules": [*rules.RULES, *alert_lints.RULES],
            "config": ["promtool-config"],
            "alertmanager": list(ALERTMANAGER_RULES),
            "dashboard": list(dashboards.RULES),
        }[item.kind]

    known = known_series(recorded | set(catalog_extra))
    counters = frozenset(s.name for s in module_specs() if s.type == "counter")
    queries: list[dashboards.Query] = []
    uids: dict[str, str] = {}
    for item in by_kind.get("dashboard", []):
        check = dashboards.lint_dashboard(item.file, item.data, item.text)
        findings += check.findings
        queries += check.queries
        if check.uid is not None and uids.setdefault(check.uid, item.file) != item.file:
            msg = f"uid {check.uid!r} is also used by {uids[check.uid]}"
            findings.append(Finding(item.file, "uid", msg))
    findings += check_queries(queries, promtool, known, counters)

    if exceptions is not None:
        exemptions, problems = load_exceptions(exceptions)
        findings = apply_exceptions(findings, exemptions, str(exceptions)) + problems
        checked[str(exceptions)] = list(EXCEPTION_RULES)
    return Result(normalize(findings), checked)
