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
    """The shipped alerting.yaml compiled, on a machine that has its key files."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("pagerduty.key", "pagerduty-database.key", "opsgenie.key"):
        (secrets / name).write_text("k3y")  # no trailing newline
    source = tmp_path / "alerting.yaml"
    source.write_text(DEFAULT.read_text().replace("/etc/alertmanager/secrets", str(secrets)))
    (path,) = build_alertmanager(source, tmp_path / "alertmanager")
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
        routes = doc["route"]["routes"]
        routes.remove(next(r for r in routes if r.get("matchers") == ['team="database"']))

    edit(built, drop_team_override)
    findings = check_alertmanager(built, DEFAULT, amtool)
    assert {f.rule for f in findings} == {"amtool-routes"}
    by_key = {f.location: f for f in findings}
    assert set(by_key) == {"overrides[0].critical", "overrides[0].warning"}  # info: null anyway
    crit = by_key["overrides[0].critical"]
    assert crit.file == str(DEFAULT)
    assert crit.line == _line_of(DEFAULT, "- match: {team: database}")
    assert crit.message == (
        'an alert {severity="critical" team="database"} is routed to '
        "local-inbox,oncall-pagerduty, but overrides[0].critical declares "
        "local-inbox,database-pagerduty"
    )


def test_every_severity_needs_a_route(built: Path, amtool: Amtool) -> None:
    def drop_info(doc: dict[str, Any]) -> None:
        route = doc["route"]
        route["routes"] = [r for r in route["routes"] if r.get("matchers") != ['severity="info"']]
        for child in route["routes"]:
            child["routes"] = [
                r for r in child.get("routes", []) if r.get("matchers") != ['severity="info"']
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


# --------------------------------------------------------------------------- receiver-file


def test_missing_key_files_are_one_warning_each(tmp_path: Path, amtool: Amtool) -> None:
    (config,) = build_alertmanager(DEFAULT, tmp_path / "alertmanager")  # /etc/... absent here
    findings = [f for f in check_alertmanager(config, DEFAULT, amtool) if f.rule == "receiver-file"]
    assert {f.severity for f in findings} == {"warning"}
    assert [f.location for f in findings] == [
        "receivers[oncall-pagerduty].pagerduty.routing_key_file",
        "receivers[ops-opsgenie].opsgenie.api_key_file",
        "receivers[database-pagerduty].pagerduty.routing_key_file",
        "receivers[database-opsgenie].opsgenie.api_key_file",
    ]
    first = findings[0]
    assert first.file == str(config) and first.line == _line_of(config, "routing_key_file")
    assert first.message.startswith(
        "receiver 'oncall-pagerduty': pagerduty routing_key_file "
        "/etc/alertmanager/secrets/pagerduty.key is missing on this machine"
    )


def test_receiver_file_reads_any_integration_relative_to_the_config(tmp_path: Path) -> None:
    from fleetwatch.validate.alertmanager import missing_secret_files

    (tmp_path / "og.key").write_text("secret-value\n")
    (tmp_path / "token").write_text("t")
    (tmp_path / "dir").mkdir()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "route": {"receiver": "a"},
                "receivers": [
                    {"name": "a", "opsgenie_configs": [{"api_key_file": "og.key"}]},
                    {
                        "name": "b",
                        "webhook_configs": [
                            {
                                "url": "http://127.0.0.1:9/",
                                "http_config": {
                                    "authorization": {"credentials_file": "token"},
                                    "tls_config": {"ca_file": "dir"},
                                    "basic_auth": {"password_file": "/nonexistent/pw"},
                                },
                            }
                        ],
                    },
                ],
            },
            sort_keys=False,
        )
    )
    found = [(p.receiver, p.key, p.problem.split(" (")[0]) for p in missing_secret_files(config)]
    assert found == [
        ("a", "api_key_file", "ends with a newline"),
        ("b", "http_config.tls_config.ca_file", "is a directory"),
        ("b", "http_config.basic_auth.password_file", "is missing on this machine"),
    ]
    assert all("secret-value" not in p.message for p in missing_secret_files(config))
