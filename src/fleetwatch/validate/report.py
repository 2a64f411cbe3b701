"""Output formats of ``fleetwatch validate``: text, json, junit, github.

``checked`` maps each validated file to the rule ids checked on it (JUnit lists a passing
testcase per rule; the summaries count files).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from fleetwatch.validate.findings import Finding

FORMATS = ("text", "json", "junit", "github")
Checked = Mapping[str, Sequence[str]]


def summary(findings: Sequence[Finding], checked: Checked) -> str:
    errors = sum(f.is_error for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    infos = len(findings) - errors - warnings
    files = len({f.file for f in findings if f.severity != "info"})
    info = f"; {infos} info (--format json lists them)" if infos else ""
    return (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        f" in {files} file{'s' * (files != 1)} ({len(checked)} checked){info}"
    )


def text_line(f: Finding) -> str:
    where = f"{f.file}:{f.line}" if f.line else f.file
    loc = f" {f.location}" if f.location else ""
    return f"{where}: {f.severity} {f.rule}{loc}: {f.message}"


def render_text(findings: Sequence[Finding], checked: Checked) -> str:
    """Errors and warnings, one line each; info findings (house style on files users bring,
    skipped files) only counted."""
    shown = [f for f in findings if f.severity != "info"]
    skipped = sorted({f.file for f in findings if f.rule == "skipped-file"})
    listed = (
        f"skipped (none of the kinds validate reads): {', '.join(skipped)}\n" if skipped else ""
    )
    lines = "".join(text_line(f) + "\n" for f in shown)
    return lines + listed + summary(findings, checked) + "\n"


def render_json(findings: Sequence[Finding], checked: Checked) -> str:
    errors = sum(f.is_error for f in findings)
    doc = {
        "findings": [asdict(f) for f in findings],
        "summary": {
            "errors": errors,
            "warnings": sum(f.severity == "warning" for f in findings),
            "info": sum(f.severity == "info" for f in findings),
            "files_checked": len(checked),
        },
        "checked": {file: list(rules) for file, rules in checked.items()},
    }
    return json.dumps(doc, indent=2) + "\n"


def render_junit(findings: Sequence[Finding], checked: Checked) -> str:
    """One testsuite per file, one testcase per rule; errors fail, warnings go to system-out."""
    by_file: dict[str, dict[str, list[Finding]]] = {}
    for file, rules in checked.items():
        by_file.setdefault(file, {}).update({r: [] for r in rules})
    for f in findings:
        by_file.setdefault(f.file, {}).setdefault(f.rule, []).append(f)
    root = ET.Element("testsuites", name="fleetwatch validate")
    total = failed = 0
    for file in sorted(by_file):
        suite = ET.SubElement(root, "testsuite", name=file)
        cases = by_file[file]
        errors = 0
        for rule in sorted(cases):
            case = ET.SubElement(suite, "testcase", classname=file, name=rule)
            failing = [f for f in cases[rule] if f.is_error]
            if failing:
                errors += 1
                failure = ET.SubElement(case, "failure", type=rule, message=_one_line(failing[0]))
                failure.text = "\n".join(text_line(f) for f in failing)
            warnings = [f for f in cases[rule] if not f.is_error]
            if warnings:
                ET.SubElement(case, "system-out").text = "\n".join(map(text_line, warnings))
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(errors))
        suite.set("errors", "0")
        total, failed = total + len(cases), failed + errors
    root.set("tests", str(total))
    root.set("failures", str(failed))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _one_line(f: Finding) -> str:
    return f"{f.location}: {f.message}" if f.location else f.message


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github_line(f: Finding) -> str:
    props = [f"file={_escape_prop(f.file)}"]
    if f.line:
        props.append(f"line={f.line}")
    props.append(f"title={_escape_prop(f.rule)}")
    level = "notice" if f.severity == "info" else f.severity
    return f"::{level} {','.join(props)}::{_escape_data(_one_line(f))}"


def render_github(findings: Sequence[Finding], checked: Checked) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then the summary."""
    return "".join(github_line(f) + "\n" for f in findings) + summary(findings, checked) + "\n"


def render(findings: Sequence[Finding], fmt: str, checked: Checked) -> str:
    renderers = {
        "text": render_text,
        "json": render_json,
        "junit": render_junit,
        "github": render_github,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return renderers[fmt](findings, checked)
