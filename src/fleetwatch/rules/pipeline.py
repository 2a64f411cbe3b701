"""``fleetwatch build``'s rules step: rules/*.yaml -> Prometheus rule files + promtool tests.

``out_dir/rules/<name>.yml`` (groups: ``<name>`` for recording rules and alerts, then one
``slo-<slo>`` group per SLO) and ``out_dir/tests/<name>.test.yml`` (``rule_files:
[../rules/<name>.yml]``).  Same input, same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fleetwatch.config.writers import write_yaml
from fleetwatch.config.yamlpos import load_data
from fleetwatch.dashboards.pipeline import dashboard_uid, discover, folder_of, slug_of
from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.inventory import Inventory
from fleetwatch.layout import RULES_DIR, TESTS_DIR, rule_test_name
from fleetwatch.rules import slo as slo_rules
from fleetwatch.rules.loader import CONFIG_FILE, load_config, load_sources
from fleetwatch.rules.model import Config, RuleSource
from fleetwatch.rules.recording import aggregate_rules, aggregate_tests, user_rules
from fleetwatch.rules.threshold import alert_rule
from fleetwatch.rules.threshold import dashboard_uid as alert_dashboard
from fleetwatch.rules.unittests import CannotTest, alert_tests

EVALUATION_INTERVAL = "1m"


def load(src_dir: Path, grafana_url: str) -> tuple[Config, list[RuleSource]]:
    if not src_dir.is_dir():
        raise ConfigError(str(src_dir), "no rules folder")
    config = load_config(src_dir / CONFIG_FILE, grafana_url)
    return config, load_sources(src_dir, config)


def down_alerts(src_dir: Path, grafana_url: str) -> list[str]:
    """The names of the alerts marked ``down: true`` in ``src_dir`` (sorted; none without a
    rules folder): while one fires for a target, its dependents' alerts are muted."""
    if not src_dir.is_dir():
        return []
    _, sources = load(src_dir, grafana_url)
    return sorted({a.name for s in sources for a in s.alerts if a.down})


def rule_file(source: RuleSource, config: Config) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    rules = aggregate_rules(source.aggregates) + user_rules(source.recording)
    rules += [alert_rule(a, config) for a in source.alerts]
    if rules:
        group: dict[str, Any] = {"name": source.group or source.name}
        if source.interval:
            group["interval"] = source.interval
        group["rules"] = rules
        groups.append(group)
    groups += [slo_rules.rule_group(s, config) for s in source.slos]
    return {"groups": groups}


def test_file(source: RuleSource, config: Config) -> dict[str, Any] | None:
    """The promtool test file of ``source`` (None when it has nothing to test)."""
    tests: list[dict[str, Any]] = aggregate_tests(source.aggregates)
    errors: list[ConfigError] = []
    for alert in source.alerts:
        try:
            tests += alert_tests(alert, config)
        except CannotTest as exc:
            errors.append(ConfigError(source.path, f"cannot generate tests: {exc}", alert.line))
    if errors:
        raise ConfigErrors(errors)
    for s in source.slos:
        tests += slo_rules.tests(s, config)
    if not tests:
        return None
    return {
        "rule_files": [f"../{RULES_DIR}/{source.name}.yml"],
        "evaluation_interval": EVALUATION_INTERVAL,
        "tests": tests,
    }


def known_uids(dashboards_src: Path) -> set[str] | None:
    """uids of the YAML dashboards under ``dashboards_src`` (None if Python ones exist)."""
    uids: set[str] = set()
    for path in discover(dashboards_src):
        if not path.name.endswith(".yaml"):
            return None
        try:
            data = load_data(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # the dashboards step reports it
        uid = data.get("uid") if isinstance(data, dict) else None
        folder, slug = folder_of(dashboards_src, path), slug_of(path)
        uids.add(str(uid) if uid else dashboard_uid(folder, slug))
    return uids


def _check_dashboards(sources: list[RuleSource], dashboards_src: Path) -> None:
    uids = known_uids(dashboards_src)
    if uids is None:
        return
    uids |= {slo_rules.dashboard_uid(s) for src in sources for s in src.slos if not s.dashboard}
    errors = [
        ConfigError(src.path, f"dashboard {uid!r} is not among {dashboards_src}", line, key)
        for src in sources
        for uid, line, key in [
            *((alert_dashboard(a), a.line, "dashboard") for a in src.alerts),
            *((s.dashboard, s.line, "dashboard") for s in src.slos if s.dashboard),
        ]
        if uid not in uids
    ]
    if errors:
        raise ConfigErrors(errors)


def build_rules(
    src_dir: Path, inventory: Inventory, out_dir: Path, *, dashboards_src: Path | None = None
) -> list[Path]:
    """Compile ``src_dir/*.yaml`` (the rules folder) into ``out_dir`` (build/prometheus).

    Raises ``ConfigErrors`` naming file:line:key for bad input.  With ``dashboards_src``,
    every ``dashboard:`` uid must be a dashboard there (or an SLO dashboard).
    """
    config, sources = load(src_dir, inventory.stack.grafana_url)
    if dashboards_src is not None:
        _check_dashboards(sources, dashboards_src)
    written: list[Path] = []
    errors: list[ConfigError] = []
    tests: dict[str, dict[str, Any]] = {}
    for source in sources:
        try:
            if (t := test_file(source, config)) is not None:
                tests[source.name] = t
        except ConfigErrors as exc:
            errors += exc.errors
    if errors:
        raise ConfigErrors(errors)
    for source in sources:
        origin = f"{src_dir.name}/{Path(source.path).name}"
        written.append(
            write_yaml(
                out_dir / RULES_DIR / f"{source.name}.yml", rule_file(source, config), origin
            )
        )
        if source.name in tests:
            path = out_dir / TESTS_DIR / rule_test_name(source.name)
            written.append(write_yaml(path, tests[source.name], origin))
    return written
