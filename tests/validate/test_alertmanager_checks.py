"""check_alertmanager: amtool check-config, the severity-route lint, amtool routes tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetwatch.provisioning.alertmanager import build_alertmanager
from fleetwatch.validate.alertmanager import check_alertmanager, severity_routes
from fleetwatch.validate.promtool import Amtool
from servers import require

ROOT = Path(__file__).parents[2]
DEFAULT = ROOT / "alerting.yaml"


@pytest.fixture(scope="module")
def amtool() -> Amtool:
    require("amtool")
    return Amtool.find()


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (path,) = build_alertmanager(DEFAULT, tmp_path / "alertmanager")
    return path


def edit(config: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Rewrite the generated config after ``change(doc)`` (a hand edit of build output)."""
    doc = yaml.safe_load(config.read_text())
    change(doc)
    config.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_the_default_passes_every_check(built: Path, amtool: Amtool) -> None:
    assert check_alertmanager(built, DEFAULT, amtool) == []
    assert check_alertmanager(built, None, amtool) == []


def test_amtool_check_config_failure_stops_the_other_checks(built: Path, amtool: Amtool) -> None:
    edit(built, lambda d: d["route"].update(receiver="nobody"))
    findings = check_alertmanager(built, DEFAULT, amtool)
    assert [f.rule for f in findings] == ["amtool-config"]
    assert 'undefined receiver "nobody"' in findings[0].message


def test_a_route_that_goes_elsewhere_is_named_at_its_declaration(
    built: Path, amtool: Amtool
) -> None:
    def drop_team_override(doc: dict[str, Any]) -> None:
        del doc["route"]["routes"][0]

    edit(built, drop_team_override)
    findings = check_alertmanager(built, DEFAULT, amtool)
    assert {f.rule for f in findings} == {"amtool-routes"}
    by_key = {f.location: f for f in findings}
    assert set(by_key) == {"overrides[0].critical", "overrides[0].warning"}  # info: null anyway
    crit = by_key["overrides[0].critical"]
    assert crit.file == str(DEFAULT)
    assert crit.line == _line_of(DEFAULT, "- match: {team: database}")
    assert crit.message == (
        'an alert {severity="critical" team="database"} is routed to oncall-pagerduty, '
        "but overrides[0].critical declares database-pagerduty"
    )


def test_every_severity_needs_a_route(built: Path, amtool: Amtool) -> None:
    def drop_info(doc: dict[str, Any]) -> None:
        route = doc["route"]
        route["routes"] = [r for r in route["routes"] if r["matchers"] != ['severity="info"']]
        for child in route["routes"]:
            child["routes"] = [
                r for r in child.get("routes", []) if r["matchers"] != ['severity="info"']
            ]

    edit(built, drop_info)
    findings = check_alertmanager(built, None, amtool)
    assert [(f.rule, f.line) for f in findings] == [("severity-route", _line_of(built, "route:"))]
    assert "no route matches severity='info'" in findings[0].message
    assert "root receiver 'ops-opsgenie'" in findings[0].message


@pytest.mark.parametrize(
    ("route", "missing"),
    [
        ({"routes": [{"match": {"severity": "critical"}}]}, ["warning", "info"]),
        ({"routes": [{"match_re": {"severity": "critical|warning"}}]}, ["info"]),
        ({"routes": [{"matchers": ["severity=~\"(critical|warning|info)\""]}]}, []),
        ({"routes": [{"matchers": ['team="db"'], "routes": [{"matchers": ["severity=info"]}]}]},
         ["critical", "warning"]),
        ({"routes": [{"matchers": ['severity!="info"']}]}, ["critical", "warning", "info"]),
    ],
)  # fmt: skip
def test_severity_route_reads_every_matcher_form(
    tmp_path: Path, route: dict[str, object], missing: list[str]
) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump({"route": {"receiver": "x", **route}}))
    found = [f.message.split("'")[1] for f in severity_routes(config)]
    assert found == missing


def test_an_invalid_alerting_yaml_is_reported(built: Path, amtool: Amtool, tmp_path: Path) -> None:
    bad = tmp_path / "alerting.yaml"
    bad.write_text(DEFAULT.read_text().replace("warning: ops-opsgenie", "warning: opsgenie"))
    findings = check_alertmanager(built, bad, amtool)
    assert [(f.rule, f.file, f.location) for f in findings] == [
        ("alerting-config", str(bad), "routing.warning")
    ]
    assert findings[0].line == _line_of(bad, "warning: opsgenie")


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
