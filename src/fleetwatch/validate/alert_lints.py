"""Alert conventions of any Prometheus rule file, and ``promtool test rules`` as findings.

``lint_rule_file`` never crashes on odd shapes: what it cannot read it reports or skips.
Rules (ids): ``alert-name`` CamelCase; ``alert-annotations`` summary, description, runbook_url
and dashboard_url present; ``alert-severity`` label severity critical / warning / info;
``alert-summary`` a plain sentence (capital first, period last, no ``{{ }}``); ``rate-window``
rate / irate / increase windows at least twice the largest scrape interval (read from
``build_dir/prometheus.yml``: global and every job; without it, 1m is assumed, so >= 2m);
``dashboard-url`` the ``/d/<uid>`` of dashboard_url is a dashboard of
``build_dir/../grafana/dashboards/**/*.json`` (only checked with ``build_dir``); ``rule-test``
a failing ``promtool test rules`` case.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from fleetwatch.config.durations import parse_duration
from fleetwatch.config.writers import dump_yaml
from fleetwatch.config.yamlpos import Document, load_data, load_yaml
from fleetwatch.errors import ConfigError, ToolError, ToolUnavailable
from fleetwatch.layout import PROMETHEUS_CONFIG, dashboards_dir
from fleetwatch.validate.findings import Finding, Rule
from fleetwatch.validate.promql import range_arguments
from fleetwatch.validate.promtool import Promtool
from fleetwatch.validate.rule_subset import RuleFiles, RuleId, horizon
from fleetwatch.validate.semantics import RATE_FUNCTIONS

RULES: dict[str, Rule] = {
    "alert-name": Rule("alert names are CamelCase (acronyms allowed: KubeAPIDown)", style=True),
    "alert-annotations": Rule(
        "alerts have summary, description, runbook_url and dashboard_url", style=True
    ),
    "alert-severity": Rule("alerts have a severity label: critical, warning or info", style=True),
    "alert-summary": Rule("summary is a plain sentence without template", style=True),
    "rate-window": Rule(
        "rate / irate / increase windows are at least 2x the scrape interval (where known)"
    ),
    "dashboard-url": Rule("dashboard_url points at a dashboard of the build"),
    "rule-test": Rule("promtool test rules passes"),
}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard_url")
SEVERITIES = ("critical", "warning", "info")
CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
DEFAULT_SCRAPE_SECONDS = 60.0
_UID = re.compile(r"/d/([A-Za-z0-9_-]+)")


def _doc(path: Path) -> Document | None:
    try:
        return load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ConfigError):
        return None


def scrape_seconds(build_dir: Path | None, config_file: Path | None = None) -> float:
    """The largest scrape interval of ``build_dir/prometheus.yml`` or of ``config_file``
    (1m when unknown)."""
    if build_dir is None and config_file is None:
        return DEFAULT_SCRAPE_SECONDS
    path = config_file if config_file is not None else build_dir / PROMETHEUS_CONFIG  # type: ignore[operator]
    try:
        config = load_data(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return DEFAULT_SCRAPE_SECONDS
    if not isinstance(config, dict):
        return DEFAULT_SCRAPE_SECONDS
    glob = config.get("global")
    texts = [glob.get("scrape_interval", "1m") if isinstance(glob, dict) else "1m"]
    jobs = config.get("scrape_configs")
    for job in jobs if isinstance(jobs, list) else []:
        if isinstance(job, dict) and "scrape_interval" in job:
            texts.append(job["scrape_interval"])
    seconds = []
    for text in texts:
        try:
            seconds.append(parse_duration(str(text)))
        except ValueError:
            continue
    return max(seconds, default=DEFAULT_SCRAPE_SECONDS)


def dashboard_uids(build_dir: Path) -> set[str]:
    uids: set[str] = set()
    for path in sorted(dashboards_dir(build_dir.parent).rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        board = data.get("dashboard", data) if isinstance(data, dict) else None
        if isinstance(board, dict) and isinstance(board.get("uid"), str):
            uids.add(board["uid"])
    return uids


def _rules(data: Any) -> Iterable[tuple[int, int, dict[str, Any]]]:
    groups = data.get("groups") if isinstance(data, dict) else None
    for g, group in enumerate(groups if isinstance(groups, list) else []):
        rules = group.get("rules") if isinstance(group, dict) else None
        for r, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict):
                yield g, r, rule


def _seconds(text: str) -> float | None:
    try:
        return parse_duration(text.split(":", 1)[0].strip())
    except ValueError:
        return None


def _fmt(seconds: float) -> str:
    return f"{seconds / 60:g}m" if seconds % 60 == 0 else f"{seconds:g}s"


def lint_rule_file(
    path: Path,
    data: Any,
    build_dir: Path | None,
    line_of: Callable[[tuple[Any, ...]], int | None] | None = None,
    config_file: Path | None = None,
) -> list[Finding]:
    """Alert-convention findings for one parsed rule file (see the module docstring).

    The scrape interval is known for a build (its prometheus.yml) or from a ``config_file``
    validated in the same run: ``rate-window`` is checked only then.  ``line_of`` gives lines
    of a part of a file (a PrometheusRule's spec)."""
    file = str(path)
    doc = _doc(path) if line_of is None else None
    lines = line_of or (lambda key: doc.line(key) if doc is not None else None)
    known = build_dir is not None or config_file is not None
    minimum = 2 * scrape_seconds(build_dir, config_file) if known else 0.0
    uids = dashboard_uids(build_dir) if build_dir is not None else None
    out: list[Finding] = []
    for g, r, rule in _rules(data):
        name = rule.get("alert", rule.get("record"))
        where = f"group {g} rule {r}" + (f' "{name}"' if isinstance(name, str) else "")

        def add(rule_id: str, msg: str, *key: str, where: str = where, gr: Any = (g, r)) -> None:
            line = lines(("groups", *gr[:1], "rules", *gr[1:], *key))
            out.append(Finding(file, rule_id, msg, location=where, line=line))

        expr = rule.get("expr")
        if isinstance(expr, str):
            for func, rng in range_arguments(expr, RATE_FUNCTIONS):
                seconds = _seconds(rng)
                if seconds is not None and seconds < minimum:
                    add("rate-window", f"{func}(...[{rng}]) is shorter than 2x the scrape "
                        f"interval: use at least [{_fmt(minimum)}]", "expr")  # fmt: skip
        if "alert" not in rule:
            continue
        alert = rule["alert"]
        if not isinstance(alert, str) or not CAMEL_CASE.match(alert):
            add("alert-name", f"alert name {alert!r} is not CamelCase (like HostHighCpu)", "alert")
        labels: dict[str, Any] = rule["labels"] if isinstance(rule.get("labels"), dict) else {}
        severity = labels.get("severity")
        if severity not in SEVERITIES:
            shown = "missing" if severity is None else repr(severity)
            add(
                "alert-severity",
                f"severity label is {shown}; use one of {', '.join(SEVERITIES)}",
                "labels",
            )
        raw_notes = rule.get("annotations")
        notes: dict[str, Any] = raw_notes if isinstance(raw_notes, dict) else {}
        missing = [
            k for k in REQUIRED_ANNOTATIONS if not isinstance(notes.get(k), str) or not notes[k]
        ]
        if missing:
            add("alert-annotations", f"missing annotation(s): {', '.join(missing)}")
        summary = notes.get("summary")
        if (
            isinstance(summary, str)
            and summary
            and ("{{" in summary or not summary[:1].isupper() or not summary.rstrip().endswith("."))
        ):
            add("alert-summary", f"summary {summary!r} must be a plain sentence (capital first, "
                "period last, no template)", "annotations", "summary")  # fmt: skip
        url = notes.get("dashboard_url")
        m = _UID.search(url) if isinstance(url, str) else None
        if uids is not None and m is not None and m.group(1) not in uids:
            add("dashboard-url", f"dashboard_url names dashboard {m.group(1)!r}, which is not "
                "in the build's grafana/dashboards", "annotations", "dashboard_url")  # fmt: skip
    return out


# --------------------------------------------------------------------------- promtool test rules

_SECTION = re.compile(r"^Unit Testing:\s+(.+?)\s*$", re.M)


def _test_lines(path: Path) -> dict[str, int]:
    """Test name -> line of its ``tests:`` item."""
    doc = _doc(path)
    if doc is None or not isinstance(doc.data, dict) or not isinstance(doc.data.get("tests"), list):
        return {}
    found: dict[str, int] = {}
    for i, test in enumerate(doc.data["tests"]):
        if isinstance(test, dict) and isinstance(test.get("name"), str):
            found.setdefault(test["name"], doc.line(("tests", i)))
    return found


def _blocks(body: str) -> list[tuple[str, str]]:
    """(test name or "", text) of each failure in one file's FAILED section."""
    blocks: list[tuple[str, str]] = []
    current: list[str] = []
    name = ""
    for raw in body.splitlines():
        text = raw.strip()
        if text.startswith("FAILED:") or not text:
            continue
        if m := re.match(r"^name: (.*),$", text):
            if current:
                blocks.append((name, " ".join(current)))
            name, current = m.group(1), []
            continue
        current.append(text)
    if current or name:
        blocks.append((name, " ".join(current)))
    return blocks


def parse_test_output(out: str, files: list[Path]) -> list[Finding]:
    """Findings from ``promtool test rules`` text (2.42 has no --junit)."""
    given = {str(p.resolve()): p for p in files}
    sections = list(_SECTION.finditer(out))
    findings: list[Finding] = []
    for i, sec in enumerate(sections):
        path = given.get(sec.group(1), Path(sec.group(1)))
        body = out[sec.end() : sections[i + 1].start() if i + 1 < len(sections) else len(out)]
        if "FAILED" not in body:
            continue
        lines = _test_lines(path)
        for name, text in _blocks(body) or [("", " ".join(body.split()))]:
            msg = text if len(text) <= 2000 else text[:1997] + "..."
            findings.append(
                Finding(
                    str(path), "rule-test", msg or "failed", location=name, line=lines.get(name)
                )
            )
    if not findings and not sections and out.strip():
        findings.append(Finding(str(files[0]), "rule-test", " ".join(out.split())[:2000]))
    return findings


def run_rule_tests(test_files: list[Path], promtool: Promtool) -> list[Finding]:
    """``promtool test rules``, one run per file (promtool splits its report between stdout
    and stderr, so one run per file keeps each failure with its file); one finding per case.
    The runs go in parallel: each is a separate process, and the tests dominate validation.
    A file's cases run grouped by the rules they can observe, each group with only those rules
    (see ``rule_subset``); cases that need every rule run as several chunks when they are
    many. Findings name the original file and line."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(4, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="fleetwatch-tests-") as tmp:
        jobs = [
            (chunk, path, rules, cost)
            for i, path in enumerate(test_files)
            for chunk, rules, cost in _chunks(path, 2 * workers, Path(tmp) / str(i))
        ]
        jobs.sort(key=lambda job: -job[3])  # longest first
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda job: _run_one(job[0], promtool, job[1], job[2]), jobs))
    return [f for found in results for f in found]


_CHUNK_MIN_TESTS = 8
#: at most this many runs per file and chunk part (one promtool start is ~50 ms of CPU)
_RUNS_PER_PART = 4

Chunk = tuple[Path, list[Path], float]


def _chunks(path: Path, parts: int, tmp: Path) -> list[Chunk]:
    """(file to run, the rule files it loads, its estimated cost): ``path`` itself, or its
    ``tests`` in several files under ``tmp`` (rule_files absolute, or subsets of the rules)."""
    try:
        data = load_data(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return [(path, [], 0.0)]  # promtool reports it
    rule_files = data.get("rule_files") if isinstance(data, dict) else None
    if not isinstance(rule_files, list):
        return [(path, [], 0.0)]  # promtool reports it
    rules = [(path.parent / str(f)).resolve() for f in rule_files]
    tests = data.get("tests")
    if not isinstance(tests, list) or not tests:
        return [(path, rules, 0.0)]
    files = None if "group_eval_order" in data else RuleFiles.load(rules)
    total = len(files.reads) if files else 30  # rules evaluated at each step, if unknown: many
    groups: dict[frozenset[RuleId] | None, list[Any]] = {}
    for case in tests:
        groups.setdefault(files.needed(case) if files else None, []).append(case)
    if len(groups) > parts * _RUNS_PER_PART:  # promtool's start-ups would cost more
        groups = {None: tests}
    runs: list[tuple[frozenset[RuleId] | None, list[Any]]] = []
    for need, cases in groups.items():
        split = parts if len(cases) >= _CHUNK_MIN_TESTS else 1
        runs += [(need, cases[i::split]) for i in range(split)]
    if runs == [(None, tests)]:
        return [(path, rules, horizon(tests) * total)]
    tmp.mkdir(parents=True)
    out: list[Chunk] = []
    subsets: dict[frozenset[RuleId], list[Path]] = {}
    for i, (need, cases) in enumerate(runs):
        if need is None or files is None:
            used = rules
        elif need in subsets:  # a group split in several runs: one copy of its rules
            used = subsets[need]
        else:
            used = subsets[need] = files.write(need, tmp / f"rules-{len(subsets)}")
        chunk = tmp / f"{path.stem}.{i}.yml"
        doc = {**data, "rule_files": [str(r) for r in used], "tests": cases}
        chunk.write_text(dump_yaml(doc), encoding="utf-8")
        out.append((chunk, used, horizon(cases) * (total if need is None else len(need))))
    return out


def _run_one(
    path: Path, promtool: Promtool, original: Path | None = None, rules: list[Path] | None = None
) -> list[Finding]:
    """Findings of one promtool run over ``path`` (a chunk of ``original``, or itself); the
    test file and its ``rules`` are what a containerised promtool must see."""
    original = original or path
    try:
        code, out = promtool.run(["test", "rules", str(path.resolve())], [path, *(rules or [])])
    except ToolUnavailable:
        raise  # the tool cannot run at all: one message for the run, not one per file
    except ToolError as exc:
        return [Finding(str(original), "rule-test", str(exc))]
    if code == 0:
        return []
    lines = _test_lines(original) if original != path else {}
    found = [
        Finding(
            str(original),
            f.rule,
            f.message,
            f.location,
            f.severity,
            lines.get(f.location or "", f.line) if original != path else f.line,
        )
        for f in parse_test_output(out, [path])
    ]
    return found or [Finding(str(original), "rule-test", " ".join(out.split())[:2000])]
