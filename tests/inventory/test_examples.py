"""The inventories shipped in exporters/."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetwatch.errors import ConfigErrors
from fleetwatch.inventory import Service, load_inventory

EXPORTERS = Path(__file__).parents[2] / "exporters"
EXAMPLE = EXPORTERS / "fleet.example.yaml"


def test_local_inventory_loads_anywhere() -> None:
    inv = load_inventory(EXPORTERS / "fleet.local.yaml")
    [host] = inv.hosts()
    assert host.name == "localhost"
    assert host.modules == ("local",)


def test_example_fails_only_for_missing_key_files() -> None:
    with pytest.raises(ConfigErrors) as info:
        load_inventory(EXAMPLE)
    errors = info.value.errors
    assert errors
    for error in errors:
        assert error.message.startswith(f"{EXAMPLE}:{error.line}: ")
        assert error.key.rsplit(".", 1)[-1] in {
            "identity_file",
            "passphrase_file",
            "known_hosts_file",
            "password_file",
        }
        assert "file not found" in error.message
    assert {e.key for e in errors} >= {"defaults.ssh.identity_file"}


def test_example_loads_when_the_files_exist(home: Path) -> None:
    (home / ".ssh").mkdir()
    (home / ".config" / "fleetwatch").mkdir(parents=True)
    for name in (
        ".ssh/fleetwatch_ed25519",
        ".ssh/fleetwatch_aws_ed25519",
        ".ssh/known_hosts_aws",
        ".config/fleetwatch/aws_key_passphrase",
        ".config/fleetwatch/pg_password",
        ".config/fleetwatch/platform_api_password",
    ):
        (home / name).write_text("x\n")
    inv = load_inventory(EXAMPLE)
    assert {d.provider for d in inv.deployments} == {"hetzner", "aws"}
    assert len(inv.deployments) == 4
    assert any(h.maintenance for h in inv.hosts())
    services = [t for t in inv.targets().values() if isinstance(t, Service)]
    # a node_exporter host is scraped directly: not one of the exporter's probe targets
    assert len(inv.targets()) == len(inv.hosts()) - 1 + len(services)
    assert "analytics-3" not in inv.targets()
    assert [a.name for a in inv.apps()] == ["platform-api", "platform-ingest"]
    assert [h.name for h in inv.hosts() if h.node_exporter] == ["analytics-3"]
    assert ("platform-mqtt", "platform-docker") in inv.dependencies()
    # one service of every service module, each with params its module accepts
    from fleetwatch.exporters.registry import SERVICE_MODULES

    assert sorted(s.module for s in services) == sorted(SERVICE_MODULES)
    for dep in inv.deployments:
        assert "team" in dep.labels
        assert dep.environment in ("prod", "staging")
        if dep.hosts:
            assert dep.resources is not None
            assert "region" in dep.labels


def test_example_structure_without_file_checks() -> None:
    inv = load_inventory(EXAMPLE, check_files=False)
    db = inv.host("shop-db-1")
    assert db.thresholds.memory == 98
    assert db.ssh.passphrase_env == "FLEETWATCH_SSH_PASSPHRASE"
    assert db.options.textfile_directory.startswith("/")


def test_scale_example_loads_and_splits_across_both_exporters() -> None:
    from fleetwatch.inventory.assign import assignment

    inv = load_inventory(EXPORTERS / "fleet.scale.yaml")
    owners = assignment(inv)
    assert owners["node-01"] == "ex-a"  # pinned
    assert set(owners.values()) == {"ex-a", "ex-b"}
