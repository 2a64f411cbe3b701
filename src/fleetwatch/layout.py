"""The layout of ``build/``: written by ``fleetwatch build``, read by validate and ``up``.

::

    prometheus/prometheus.yml  prometheus/targets/<job>.json  prometheus/rules/<source>.yml
    prometheus/tests/<source>.test.yml
    grafana/provisioning/{datasources,dashboards}/*.yaml  grafana/dashboards/<folder>/*.json
    alertmanager/alertmanager.yml  alertmanager/routing-policy.yaml

The names are relative to the folder they sit in; the functions join them to a build folder.
"""

from __future__ import annotations

from pathlib import Path

#: the build folder's default name (``-o`` of build / up, the default PATH of validate)
DEFAULT_BUILD_DIR = "build"

PROMETHEUS = "prometheus"
GRAFANA = "grafana"
ALERTMANAGER = "alertmanager"
#: the generated subtrees of build/; rebuilt from scratch so a removed source leaves no file
GENERATED = (PROMETHEUS, GRAFANA, ALERTMANAGER)

# in prometheus/
PROMETHEUS_CONFIG = "prometheus.yml"
TARGETS_DIR = "targets"
RULES_DIR = "rules"
TESTS_DIR = "tests"
#: the rule file of the inventory's recording rules, in prometheus/rules/
INVENTORY_RULES = "inventory.yml"

# in grafana/
DASHBOARDS_DIR = "dashboards"
PROVISIONING_DIR = "provisioning"

# in alertmanager/
ALERTMANAGER_CONFIG = "alertmanager.yml"
#: the copy of alerting.yaml kept beside alertmanager.yml (validate tests its routes)
ROUTING_POLICY = "routing-policy.yaml"


def rule_test_name(rule_stem: str) -> str:
    """The promtool test file name of the rule file ``<rule_stem>.yml``."""
    return f"{rule_stem}.test.yml"


def prometheus_config(build: Path) -> Path:
    return build / PROMETHEUS / PROMETHEUS_CONFIG


def rules_dir(build: Path) -> Path:
    return build / PROMETHEUS / RULES_DIR


def dashboards_dir(build: Path) -> Path:
    return build / GRAFANA / DASHBOARDS_DIR


def provisioning_dir(build: Path) -> Path:
    return build / GRAFANA / PROVISIONING_DIR


def alertmanager_config(build: Path) -> Path:
    return build / ALERTMANAGER / ALERTMANAGER_CONFIG
