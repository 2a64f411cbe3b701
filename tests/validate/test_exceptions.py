"""The exceptions file: suppression, a reason required, stale exceptions reported."""

from __future__ import annotations

from pathlib import Path

from fleetwatch.validate.exceptions import apply_exceptions, load_exceptions
from fleetwatch.validate.findings import Finding

UNITS = Finding("build/grafana/dashboards/node.json", "panel-units", "no unit", 'panel 3 "Load"')
OTHER = Finding("build/grafana/dashboards/node.json", "panel-units", "no unit", 'panel 4 "Disk"')


def _load(tmp_path: Path, text: str) -> tuple[list[Finding], Path]:
    path = tmp_path / ".fleetwatch-exceptions.yaml"
    path.write_text(text)
    exemptions, _, problems = load_exceptions(path)
    return apply_exceptions([UNITS, OTHER], exemptions, str(path)) + problems, path


def test_matching_finding_is_suppressed(tmp_path: Path) -> None:
    findings, _ = _load(
        tmp_path,
        "- rule: panel-units\n  file: '*/node.json'\n  location: 'panel 3 *'\n"
        "  reason: Load is unitless by nature.\n",
    )
    assert findings == [OTHER]


def test_file_glob_matches_trailing_parts_and_rule_globs(tmp_path: Path) -> None:
    findings, _ = _load(
        tmp_path,
        "exceptions:\n  - {rule: 'panel-*', file: dashboards/node.json, reason: legacy board}\n",
    )
    assert findings == []


def test_exception_without_reason_is_an_error_and_suppresses_nothing(tmp_path: Path) -> None:
    findings, path = _load(
        tmp_path,
        "- rule: panel-units\n  file: '*.json'\n- rule: panel-units\n  file: x\n  reason: '  '\n",
    )
    problems = [f for f in findings if f.file == str(path)]
    assert [(f.rule, f.severity, f.line) for f in problems] == [
        ("exception-reason", "error", 1),
        ("exception-reason", "error", 3),
    ]
    assert UNITS in findings and OTHER in findings


def test_stale_exception_is_a_warning(tmp_path: Path) -> None:
    findings, path = _load(
        tmp_path,
        "- {rule: panel-units, file: '*.json', reason: ok}\n"
        "- {rule: uid, file: gone.json, reason: removed dashboard}\n",
    )
    (stale,) = findings
    assert (stale.file, stale.rule, stale.severity, stale.line) == (
        str(path),
        "exception-stale",
        "warning",
        2,
    )
    assert "'uid' on 'gone.json'" in stale.message


def test_malformed_files(tmp_path: Path) -> None:
    for text, expected in [
        ("- rule: [\n", "invalid YAML"),
        ("{exceptions: 5}\n", "expected a list"),
        ("- just a string\n", "not a mapping"),
        ("- {reason: x}\n", "needs rule and file"),
    ]:
        findings, _ = _load(tmp_path, text)
        assert [f.rule for f in findings if "exception" in f.rule] == ["exceptions-file"], text
        assert any(expected in f.message for f in findings), findings
    assert load_exceptions(tmp_path / "missing.yaml")[2][0].rule == "exceptions-file"
    findings, _ = _load(tmp_path, "")
    assert findings == [UNITS, OTHER]
