"""``fleetwatch validate``: exit codes 0 / 1 / 5, formats, --output, default build/."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetwatch.cli.validate_cmds import validate
from fleetwatch.validate.promtool import Promtool
from validate.samples import good_dashboard, write_json


@pytest.fixture
def dash(tmp_path: Path) -> Path:
    return write_json(tmp_path / "d.json", good_dashboard())


def test_clean_exits_0(promtool: Promtool, dash: Path) -> None:
    result = CliRunner().invoke(validate, [str(dash), "--promtool", promtool.executable])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 errors, 0 warnings in 0 files (1 checked)"


def test_errors_exit_1_with_github_annotations(promtool: Promtool, dash: Path) -> None:
    data = good_dashboard()
    data["panels"][1]["type"] = "graph"  # a warning
    data["panels"][1]["targets"][0]["expr"] = "rate(node_load1[$__rate_interval])"  # an error
    write_json(dash, data)
    result = CliRunner().invoke(validate, [str(dash), "--format", "github"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"::warning file={dash},line=")
    assert "title=angular-panel::panel 2" in result.output
    assert (
        f"::error file={dash}," in result.output and "title=rate-of-gauge::panel 2" in result.output
    )


def test_junit_output_file(promtool: Promtool, dash: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "validate.xml"
    result = CliRunner().invoke(validate, [str(dash), "--format", "junit", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert ET.parse(out).getroot().get("failures") == "0"


def test_default_path_and_exceptions_file(
    promtool: Promtool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = good_dashboard()
    data["schemaVersion"] = 30
    write_json(Path("build/grafana/dashboards/d.json"), data)
    result = CliRunner().invoke(validate, [])
    assert result.exit_code == 1
    assert "build/grafana/dashboards/d.json: error schema-version" in result.output
    Path(".fleetwatch-exceptions.yaml").write_text(
        "- {rule: schema-version, file: '*/d.json', reason: migrated next quarter}\n"
    )
    result = CliRunner().invoke(validate, ["--format", "json"])
    assert result.exit_code == 0, result.output


def test_missing_promtool_exits_5(
    dash: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(validate, [str(dash)])
    assert result.exit_code == 5
    assert "apt-get install prometheus" in result.output


def test_severity_disable_and_profile_options(promtool: Promtool, tmp_path: Path) -> None:
    data = good_dashboard()
    data["panels"][1]["targets"][0]["expr"] = "rate(node_load1[$__rate_interval])"
    del data["panels"][1]["fieldConfig"]["defaults"]["unit"]
    path = write_json(tmp_path / "d.json", data)
    run = CliRunner().invoke
    assert run(validate, [str(path)]).exit_code == 1  # rate-of-gauge
    lowered = run(validate, [str(path), "--severity", "rate-of-gauge=warning"])
    assert lowered.exit_code == 0, lowered.output
    assert "warning rate-of-gauge" in lowered.output
    off = run(validate, [str(path), "--disable", "rate-of-gauge"])
    assert off.exit_code == 0 and "rate-of-gauge" not in off.output
    # the missing unit is house style: info on a file of someone else's, an error when strict
    strict = run(validate, [str(path), "--disable", "rate-of-gauge", "--profile", "strict"])
    assert strict.exit_code == 1 and "error panel-units" in strict.output
    bad = run(validate, [str(path), "--severity", "no-such-rule=warning"])
    assert bad.exit_code == 2 and "unknown rule 'no-such-rule'" in bad.output
    worse = run(validate, [str(path), "--severity", "rate-of-gauge"])
    assert worse.exit_code == 2 and "RULE=LEVEL" in worse.output
