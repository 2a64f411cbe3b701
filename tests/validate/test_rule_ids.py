"""The published rule ids (`validate --list-rules`) are the ones the checks can report."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

import fleetwatch.validate as validate_pkg
from fleetwatch.cli.validate_cmds import validate
from fleetwatch.validate import CHECKS, all_rules

SOURCES = sorted(Path(validate_pkg.__file__).parent.glob("*.py"))
#: the calls that make a finding, and the position of their rule id
EMITTERS = {"Finding": 1, "_finding": 1, "add": 0, "bad": 0}
RULE_PARAMS = {"rule", "rule_id"}
KEBAB = re.compile(r"^[a-z]+(?:-[a-z]+)*$")


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def emitted(tree: ast.AST) -> set[str]:
    """Rule ids written in a module: literal ids of finding calls and ``rule=`` defaults."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            pos = EMITTERS.get(name or "")
            if pos is not None and len(node.args) > pos:
                found.add(_literal(node.args[pos]) or "")
            found |= {_literal(k.value) or "" for k in node.keywords if k.arg in RULE_PARAMS}
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            with_default = positional[len(positional) - len(node.defaults) :]
            defaults = zip(with_default, node.defaults, strict=True)
            pairs = [*defaults, *zip(node.kwonlyargs, node.kw_defaults, strict=True)]
            found |= {_literal(d) or "" for a, d in pairs if a.arg in RULE_PARAMS}
    return {f for f in found if KEBAB.match(f)}


def test_every_rule_a_check_reports_is_listed() -> None:
    listed = set(all_rules())
    for path in SOURCES:
        unlisted = emitted(ast.parse(path.read_text(encoding="utf-8"))) - listed
        assert not unlisted, (path.name, unlisted)


def test_the_scan_sees_findings_of_every_kind() -> None:
    seen = set().union(*(emitted(ast.parse(p.read_text(encoding="utf-8"))) for p in SOURCES))
    assert {"parse", "panel-units", "rule-test", "amtool-routes", "exception-stale"} <= seen
    assert {"promtool-rules", "promtool-config", "amtool-config"} <= seen  # rule= defaults
    assert "dashboard" not in seen  # engine.discover's add(path, kind) makes no finding


def test_no_rule_is_declared_twice() -> None:
    ids = [rule for check in CHECKS for rule in check.RULES]
    assert len(ids) == len(set(ids))


def test_list_rules_prints_each_id_with_its_meaning() -> None:
    result = CliRunner().invoke(validate, ["--list-rules"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(all_rules())
    assert any(re.match(r"panel-units +style +data panels set fieldConfig", line) for line in lines)
    assert any(re.match(r"angular-panel +warning +no Angular", line) for line in lines)
