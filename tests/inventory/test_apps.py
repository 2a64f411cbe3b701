"""Inventory ``apps:``, ``node_exporter:`` hosts and ``depends_on``: the model and the
file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.errors import ConfigErrors
from fleetwatch.inventory import App, inventory_from_text

FLEET = """\
version: 1
deployments:
  - name: prod
    provider: hetzner
    labels: {env: prod}
    hosts:
      - {name: web-1, address: 10.0.0.1}
      - {name: db-1, address: 10.0.0.3, node_exporter: 9100}
      - {name: db-2, address: "fd00::3", node_exporter: 9100}
      - {name: gw, node_exporter: "10.9.9.9:9101", depends_on: [web-1]}
    services:
      - {name: pg, module: postgres, address: "10.0.0.3:5432", depends_on: [db-1]}
    apps:
      - name: api
        url: https://api.internal:8443/internal/metrics
        scrape_interval: 30s
        labels: {team: core}
        catalog: api.catalog.yaml
        depends_on: [pg, db-1]
        auth: {basic: {username: prom, password_file: secrets/api.pw}}
        tls: {ca_file: ca.pem, server_name: api, cert_file: c.pem, key_file: k.pem}
      - {name: worker, url: "http://10.0.0.5/metrics", auth: {bearer_token_file: tok}}
      - {name: bare, url: "http://10.0.0.6:9000"}
"""


def load(text: str, tmp_path: Path, check_files: bool = False):  # type: ignore[no-untyped-def]
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    (tmp_path / "api.catalog.yaml").write_text("metrics: []\n")
    return inventory_from_text(text, str(path), check_files=check_files)


def errors(text: str, tmp_path: Path, check_files: bool = False) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load(text, tmp_path, check_files)
    return str(info.value).splitlines()


def test_apps_model(tmp_path: Path) -> None:
    inv = load(FLEET, tmp_path)
    api, worker, bare = inv.apps()
    assert isinstance(api, App)
    assert (api.scheme, api.address, api.metrics_path) == (
        "https",
        "api.internal:8443",
        "/internal/metrics",
    )
    assert api.labels == {"env": "prod", "team": "core"}
    assert api.scrape_interval == "30s" and api.scrape_interval_seconds == 30
    assert api.catalog == str(tmp_path / "api.catalog.yaml")
    assert api.auth.username == "prom"
    assert api.auth.password_file == str(tmp_path / "secrets/api.pw")
    assert api.tls.ca_file == str(tmp_path / "ca.pem") and api.tls.server_name == "api"
    assert api.depends_on == ("pg", "db-1")
    assert worker.address == "10.0.0.5:80" and worker.scrape_interval == "15s"
    assert worker.auth.bearer_token_file == str(tmp_path / "tok")
    assert bare.metrics_path == "/metrics"  # no path: the convention


def test_node_exporter_hosts(tmp_path: Path) -> None:
    inv = load(FLEET, tmp_path)
    assert inv.host("web-1").node_exporter is None
    assert inv.host("web-1").probed_modules == ("ssh",)
    assert inv.host("db-1").node_exporter == "10.0.0.3:9100"
    assert inv.host("db-1").probed_modules == ()
    assert inv.host("db-2").node_exporter == "[fd00::3]:9100"
    assert inv.host("gw").node_exporter == "10.9.9.9:9101"


def test_dependencies(tmp_path: Path) -> None:
    assert load(FLEET, tmp_path).dependencies() == [
        ("api", "db-1"),
        ("api", "pg"),
        ("gw", "web-1"),
        ("pg", "db-1"),
    ]


def test_inline_secret_and_credentials_in_the_url(tmp_path: Path) -> None:
    text = FLEET.replace(
        "auth: {basic: {username: prom, password_file: secrets/api.pw}}",
        "auth: {basic: {username: prom, password: hunter2}}",
    ).replace('"http://10.0.0.5/metrics"', '"http://u:pw@10.0.0.5/metrics"')
    found = errors(text, tmp_path)
    assert any(
        line.startswith(f"{tmp_path}/fleet.yaml:20: inline secret 'password' is not allowed")
        for line in found
    ), found
    assert any(
        ":22:" in line and "credentials in the URL are not allowed" in line for line in found
    ), found
    assert all("hunter2" not in line and ":pw@" not in line for line in found), found


def test_missing_catalog_is_a_file_line_error(tmp_path: Path) -> None:
    found = errors(FLEET.replace("api.catalog.yaml", "nope.yaml"), tmp_path)
    assert found == [
        f"{tmp_path}/fleet.yaml:18: catalog 'nope.yaml' ({tmp_path}/nope.yaml): file not found"
        " (deployments[0].apps[0].catalog)"
    ]


def test_missing_secret_files_when_checked(tmp_path: Path) -> None:
    found = errors(FLEET, tmp_path, check_files=True)
    assert [line.split(": ", 1)[0] for line in found] == [
        f"{tmp_path}/fleet.yaml:{n}" for n in (20, 21, 21, 21, 22)
    ], found
    assert "password_file 'secrets/api.pw'" in found[0]


def test_unknown_dependency_self_and_cycles(tmp_path: Path) -> None:
    text = FLEET.replace("depends_on: [web-1]", "depends_on: [web1, gw]").replace(
        "depends_on: [db-1]}", "depends_on: [api]}"
    )
    found = errors(text, tmp_path)
    assert any(":10:" in line and "unknown target 'web1'; did you mean 'web-1'?" in line
               for line in found), found  # fmt: skip
    assert any(":10:" in line and "'gw' cannot depend on itself" in line for line in found)
    assert any(":12:" in line and "depends_on cycle: pg -> api -> pg" in line for line in found)


def test_a_long_chain_is_no_cycle(tmp_path: Path) -> None:
    def host(i: int) -> str:
        needs = f", depends_on: [h{i - 1}]" if i else ""
        return f"      - {{name: h{i}, address: 10.1.0.1{needs}}}"

    hosts = "\n".join(host(i) for i in range(3000))
    text = f"version: 1\ndeployments:\n  - name: d\n    provider: p\n    hosts:\n{hosts}\n"
    assert len(load(text, tmp_path).dependencies()) == 2999


def test_bad_node_exporter_and_url(tmp_path: Path) -> None:
    text = FLEET.replace('"10.9.9.9:9101"', '"http://x:1"').replace(
        "https://api.internal:8443/internal/metrics", "ftp://api/x"
    )
    found = errors(text, tmp_path)
    assert any(":10:" in line and "must be a port (9100) or host:port" in line for line in found)
    assert any(":15:" in line and "must be http(s)://host:port/path" in line for line in found)


def test_node_exporter_hosts_are_no_probe_targets(tmp_path: Path) -> None:
    """Prometheus scrapes their node_exporter: the exporter neither lists nor probes them."""
    from fleetwatch.errors import UsageError
    from fleetwatch.exporters.server import Exporter

    inv = load(FLEET, tmp_path)
    assert "web-1" in inv.targets()
    assert not {"db-1", "db-2", "gw"} & set(inv.targets())
    exporter = Exporter(inv)
    assert exporter.resolve("web-1", "ssh") == ("web-1", "ssh")
    with pytest.raises(UsageError, match="unknown target 'db-1'"):
        exporter.resolve("db-1", "ssh")


ENVIRONMENTS = """\
version: 1
deployments:
  - name: shop
    provider: hetzner
    environment: prod
    labels: {team: shop}
    hosts: [{name: web-1}, {name: db-1, node_exporter: 9100}]
    services: [{name: cache, module: redis, address: "10.0.0.6:6379"}]
    apps: [{name: api, url: "http://10.0.0.7:8080/metrics"}]
  - name: lab
    provider: aws
    labels: {environment: staging}
    hosts: [{name: lab-1}]
  - name: misc
    provider: aws
    hosts: [{name: misc-1}]
"""


def test_environment_per_deployment(tmp_path: Path) -> None:
    inv = load(ENVIRONMENTS, tmp_path)
    shop = inv.deployment("shop")
    everything = [*shop.hosts, *shop.services, *shop.apps]
    assert {t.environment for t in everything} == {"prod"} and shop.environment == "prod"
    # from the deployment's label when there is no key; the label is then not a free label
    assert inv.host("lab-1").environment == "staging"
    assert "environment" not in inv.host("lab-1").labels
    assert inv.host("misc-1").environment == "none"


def test_environment_conflicts_and_per_target_labels(tmp_path: Path) -> None:
    text = ENVIRONMENTS.replace(
        "labels: {team: shop}", "labels: {team: shop, environment: staging}"
    ).replace("{name: lab-1}", "{name: lab-1, labels: {environment: dev}}")
    found = errors(text, tmp_path)
    assert any(":6:" in line and "contradicts environment: 'prod'" in line for line in found)
    assert any(":13:" in line and "the environment is set per deployment" in line for line in found)
