"""``validate``: find what to check under the given paths, check it, return sorted findings.

A path is a build directory (``grafana/dashboards/**/*.json``, ``prometheus/prometheus.yml``,
``prometheus/rules/*.yml``, ``alertmanager/alertmanager.yml``), a dashboard JSON, a rule file,
a Prometheus or Alertmanager config, or a folder of those (recursively).  promtool runs once
for all rule files, once for the config and once for the PromQL of all dashboards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fleetwatch import layout
from fleetwatch.errors import ToolUnavailable
from fleetwatch.validate import (
    alert_lints,
    dashboards,
    promql,
    rule_checks,
    rules,
    semantics,
    sources,
)
from fleetwatch.validate.alertmanager import RULES as ALERTMANAGER_RULES
from fleetwatch.validate.alertmanager import check_alertmanager
from fleetwatch.validate.exceptions import RULES as EXCEPTION_RULES
from fleetwatch.validate.exceptions import apply_exceptions, load_exceptions
from fleetwatch.validate.findings import Finding, Rule, normalize
from fleetwatch.validate.knowledge import Knowledge, load_catalog, own_types
from fleetwatch.validate.policy import Policy
from fleetwatch.validate.promtool import Amtool, Promtool
from fleetwatch.validate.sources import Item

#: what the engine itself reports (the checks it runs declare theirs)
RULES: dict[str, Rule] = {
    "promtool-config": Rule("`promtool check config` accepts prometheus.yml (and its files)"),
}


@dataclass
class Result:
    findings: list[Finding]
    checked: dict[str, list[str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


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


def _own_file(path: Path) -> bool:
    """A file `fleetwatch build` wrote (found by the build's layout around it)."""
    if path.suffix in (".yml", ".yaml") and _build_prometheus(path) is not None:
        return path.parent.name == layout.RULES_DIR
    for parent in path.parents:
        if parent.name == layout.DASHBOARDS_DIR and parent.parent.name == layout.GRAFANA:
            return layout.prometheus_config(parent.parent.parent).is_file()
    return False


def discover(paths: Iterable[Path]) -> tuple[list[Item], list[Finding]]:
    items: list[Item] = []
    findings: list[Finding] = []

    seen: set[Path] = set()

    def add(path: Path, kind: str | None, named: bool, own: bool) -> None:
        if path.resolve() in seen:
            return
        seen.add(path.resolve())
        found, problems = sources.load(path, kind, named, own)
        findings.extend(problems)
        items.extend(found)

    for path in paths:
        if path.is_dir() and (
            layout.dashboards_dir(path).is_dir() or layout.prometheus_config(path).is_file()
        ):
            for dash in sorted(layout.dashboards_dir(path).rglob("*.json")):
                add(dash, "dashboard", True, True)
            rule_dir = layout.rules_dir(path)
            for rule_file in sorted([*rule_dir.glob("*.yml"), *rule_dir.glob("*.yaml")]):
                add(rule_file, "rules", True, True)
            for cfg, kind in ((layout.prometheus_config(path), "config"),
                              (layout.alertmanager_config(path), "alertmanager")):  # fmt: skip
                if cfg.is_file():
                    add(cfg, kind, True, True)
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in sub.relative_to(path).parts)
                if sub.is_file() and not hidden:
                    add(sub, None, False, _own_file(sub))
        elif path.is_file():
            add(path, None, True, _own_file(path))
        else:
            findings.append(Finding(str(path), "parse", "no such file or directory"))
    return items, findings


def _is_rate_interval(range_text: str) -> bool:
    tokens = promql.tokenize(range_text)
    return len(tokens) == 1 and promql.var_name(tokens[0].text) in ("__rate_interval", "__range")


def check_queries(
    queries: Sequence[dashboards.Query],
    tool: Promtool | None,
    know: Knowledge,
    own: Collection[str] = (),
) -> list[Finding]:
    """promql-syntax (one promtool run), unknown-metric, rate-interval and the type-aware
    checks of ``semantics`` on the queries of dashboards."""
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
        for name in sorted(names):
            problem = know.unknown(name, q.file in own)
            if problem is not None:
                add("unknown-metric", problem)
            note = know.deprecated(name)
            if note is not None:
                add("deprecated-metric", note)
        ctx = semantics.Context(
            "panel" if q.panel else "variable", know.sample_type, know.recorded, know.declared_gauge
        )
        for rule, msg in semantics.check_expr(q.expr, ctx):
            add(rule, msg)
        if not q.panel:
            continue
        for func, rng in promql.range_arguments(q.raw, ("rate", "irate")):
            if not _is_rate_interval(rng):
                add("rate-interval", f"{func}(...[{rng}]): use [$__rate_interval]")
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
    catalogs: Sequence[Path] = (),
    prometheus_url: str | None = None,
    policy: Policy | None = None,
) -> Result:
    """``validate`` with the rules checked per file (for the JUnit report)."""
    from fleetwatch.catalog import known_series, module_specs

    items, findings = discover(paths)
    # a build's own catalog: the metrics its inventory defines (custom SQL queries)
    catalogs = [
        *catalogs,
        *(layout.catalog_file(p) for p in paths if layout.catalog_file(p).is_file()),
    ]
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
    own = {item.file for item in items if item.own}

    rule_items = by_kind.get("rules", [])
    all_rules = [
        at for item in rule_items for at in rule_checks.rules_of(item.file, item.data, item.line_of)
    ]
    recorded: dict[str, semantics.Recorded] = {}
    for at in all_rules:
        expr = at.rule.get("expr")
        if at.rule.get("record") and isinstance(expr, str):
            recorded[at.name] = semantics.Recorded(at.name, semantics.recorded_shape(expr))
    known = known_series(set(recorded) | set(catalog_extra))
    specs = module_specs()
    know = Knowledge(known, load_catalog(catalogs, prometheus_url), recorded, own_types(specs))

    with tempfile.TemporaryDirectory(prefix="fleetwatch-validate-") as tmp:
        findings += _promtool_rules(rule_items, promtool, Path(tmp))
    ctx = semantics.Context("alert", know.sample_type, recorded, know.declared_gauge)
    findings += rule_checks.check_rules(all_rules, ctx)
    for at in all_rules:
        expr = at.rule.get("expr")
        for name in sorted(promql.metric_names(expr) if isinstance(expr, str) else ()):
            problem = know.unknown(name, at.file in own)
            if problem is not None:
                findings.append(at.finding("unknown-metric", problem, "expr"))
    # a prometheus.yml named in the same run tells the scrape interval of other rule files
    configs = [i.path for i in by_kind.get("config", [])]
    for item in rule_items:
        build = _build_prometheus(item.path) if item.standalone else None
        config = configs[0] if build is None and len(configs) == 1 else None
        findings += alert_lints.lint_rule_file(item.path, item.data, build, item.line_of, config)
    tests = sorted({t for item in rule_items if item.standalone for t in _rule_tests(item.path)})
    if tests and promtool is not None:
        findings += alert_lints.run_rule_tests(tests, promtool)
    rule_files = {i.file for i in rule_items}
    for item in by_kind.get("config", []):
        assert promtool is not None
        found = promtool.check_config(item.path)
        findings += [f for f in found if f.file not in rule_files]  # reported once, above
    for item in by_kind.get("alertmanager", []):
        # the routing policy it came from, copied beside it by `fleetwatch build`
        policy_file = item.path.parent / layout.ROUTING_POLICY
        assert amtool is not None
        found = check_alertmanager(
            item.path, policy_file if policy_file.is_file() else None, amtool
        )
        findings += found
    for item in items:
        checked.setdefault(item.file, [])
        checked[item.file] = sorted(
            {
                *checked[item.file],
                *{
                    "rules": [
                        *rules.RULES,
                        *alert_lints.RULES,
                        *rule_checks.RULES,
                        *semantics.RULES,
                    ],
                    "config": ["promtool-config"],
                    "alertmanager": list(ALERTMANAGER_RULES),
                    "dashboard": [*dashboards.RULES, *semantics.RULES],
                }[item.kind],
            }
        )

    queries: list[dashboards.Query] = []
    uids: dict[str, str] = {}
    for item in by_kind.get("dashboard", []):
        check = dashboards.lint_dashboard(item.file, item.data, item.text)
        findings += [_in_part(f, item) for f in check.findings]
        queries += [_query_in_part(q, item) for q in check.queries]
        where = f"{item.file} ({item.part})" if item.part else item.file
        if check.uid is not None and uids.setdefault(check.uid, where) != where:
            msg = f"uid {check.uid!r} is also used by {uids[check.uid]}"
            findings.append(Finding(item.file, "uid-duplicate", msg, item.part))
    findings += check_queries(queries, promtool, know, own)

    policy = policy or Policy()
    if exceptions is not None:
        exemptions, levels, problems = load_exceptions(exceptions, set(all_rule_ids()))
        policy = Policy(policy.profile, {**levels, **policy.levels})
        findings = policy.apply(findings, all_rule_ids(), own)
        findings = apply_exceptions(findings, exemptions, str(exceptions)) + problems
        checked[str(exceptions)] = list(EXCEPTION_RULES)
    else:
        findings = policy.apply(findings, all_rule_ids(), own)
    return Result(normalize(findings), checked)


def all_rule_ids() -> dict[str, Rule]:
    from fleetwatch.validate import all_rules

    return all_rules()


def _in_part(f: Finding, item: Item) -> Finding:
    """A finding of one part of a file (a ConfigMap key): its line and location in the file."""
    if not item.part and not item.line_offset:
        return f
    line = f.line + item.line_offset if f.line is not None else item.line_offset or None
    loc = f"{item.part} {f.location}".strip()
    return Finding(f.file, f.rule, f.message, loc, f.severity, line)


def _query_in_part(q: dashboards.Query, item: Item) -> dashboards.Query:
    if not item.part and not item.line_offset:
        return q
    line = q.line + item.line_offset if q.line is not None else item.line_offset or None
    return dashboards.Query(q.file, f"{item.part} {q.location}".strip(), line, q.ref, q.raw,
                            q.expr, q.panel)  # fmt: skip


def _promtool_rules(items: Sequence[Item], promtool: Promtool | None, tmp: Path) -> list[Finding]:
    """One `promtool check rules` for every rule source; parts of files (PrometheusRule,
    ConfigMaps, streams) written out on their own, their findings mapped back."""
    if not items or promtool is None:
        return []
    paths: list[Path] = []
    back: dict[str, Item] = {}
    for i, item in enumerate(items):
        if item.standalone:
            paths.append(item.path)
            continue
        out = tmp / f"part-{i}.yml"
        out.write_text(yaml.safe_dump(item.data, sort_keys=False), encoding="utf-8")
        paths.append(out)
        back[str(out)] = item
    found = rules.check_rule_files(paths, promtool)
    mapped = []
    for f in found:
        part = back.get(f.file)
        if part is None:
            mapped.append(f)
        else:
            loc = f"{part.part} {f.location}".strip()
            mapped.append(Finding(part.file, f.rule, f.message, loc, f.severity, part.line_of(())))
    return mapped
