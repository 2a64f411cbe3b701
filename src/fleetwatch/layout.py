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
#: the scale-out engines' configs (only with the inventory's ``scale:``), see below
SCALE = "scale"
#: the generated subtrees of build/; rebuilt from scratch so a removed source leaves no file
GENERATED = (PROMETHEUS, GRAFANA, ALERTMANAGER, SCALE)

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

#: in prometheus/: the metrics the inventory defines (custom SQL, apps' catalogs), for validate
CATALOG = "catalog.yml"

# in alertmanager/
ALERTMANAGER_CONFIG = "alertmanager.yml"
#: the copy of alerting.yaml kept beside alertmanager.yml (validate tests its routes)
ROUTING_POLICY = "routing-policy.yaml"


# in scale/ (paths inside the configs and *.args files are relative to the build folder, the
# working directory every scale-out engine runs in):
#   assignment.json                      target -> exporter and shard; exporter -> address, shard
#   shard-<n>/targets/<job>.json         file_sd of the shard: its exporters' targets
#   shard-<n>/replica-<m>/prometheus.yml Prometheus agent (--enable-feature=agent), or
#   shard-<n>/replica-<m>/{scrape.yml,vmagent.args}
#   rules/vmalert.args | rules/thanos-rule.args | rules/mimir-ruler.yaml
#   rules/exporters.yml                  ExporterDown (every evaluator reads it too)
#   storage/*.args | storage/mimir-ha.yaml   the store's HA / dedup settings
#   alertmanager/peer-<i>.args           the cluster flags of each Alertmanager peer
SCALE_ASSIGNMENT = "assignment.json"
#: the one-argument-per-line files of the engines run from flags (vmagent, vmalert, ...)
ARGS_SUFFIX = ".args"


def shard_dir(build: Path, shard: int) -> Path:
    return build / SCALE / f"shard-{shard}"


def replica_dir(build: Path, shard: int, replica: int) -> Path:
    return shard_dir(build, shard) / f"replica-{replica}"


def catalog_file(build: Path) -> Path:
    return build / PROMETHEUS / CATALOG


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
