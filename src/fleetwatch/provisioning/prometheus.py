"""prometheus.yml, file_sd target files and the inventory's recording rules.

One scrape job per (module, interval), named ``<module>_<interval>`` (``ssh_15s``), using the
multi-target pattern: ``__address__`` → ``__param_target`` → ``instance``, then the exporter's
address.  Every target carries ``deployment``, ``provider``, ``environment``, ``maintenance``
and the inventory's own labels, so any panel can be sliced by provider and deployment.  Hosts in
maintenance are kept and marked (``maintenance="true"``), never dropped.

Targets Prometheus scrapes directly carry the same labels, ``instance`` set to their inventory
name: hosts with ``node_exporter:`` in ``node_<interval>`` jobs (so the host dashboards and
alerts, which select by ``instance`` / ``deployment``, cover them as SSH-collected hosts), and
one ``app_<name>`` job per app (its scheme, path, auth and TLS by file).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fleetwatch import rule_names
from fleetwatch.config.writers import write_json, write_yaml
from fleetwatch.inventory import App, Host, Inventory, Service
from fleetwatch.inventory.model import AppTLS, ExporterScrape
from fleetwatch.layout import CATALOG, INVENTORY_RULES, PROMETHEUS_CONFIG, RULES_DIR, TARGETS_DIR

DEFAULT_SCRAPE_TIMEOUT = 10.0


def job_name(module: str, interval: str) -> str:
    return f"{module}_{interval}"


Target = Host | Service

NODE_JOB_PREFIX = "node"
APP_JOB_PREFIX = "app"


def target_labels(host: Target | App) -> dict[str, str]:
    labels = {
        "deployment": host.deployment,
        "provider": host.provider,
        "environment": host.environment,
        "maintenance": "true" if host.maintenance else "false",
    }
    labels.update(sorted(host.labels.items()))
    return labels


def jobs(inventory: Inventory) -> dict[str, list[Target]]:
    """Hosts and services by scrape job, jobs in a stable order."""
    by_job: dict[str, list[Target]] = defaultdict(list)
    targets: list[Target] = [*inventory.hosts(), *inventory.services()]
    for target in targets:
        for module in target.probed_modules:
            by_job[job_name(module, target.scrape_interval)].append(target)
    return {name: sorted(by_job[name], key=lambda h: h.name) for name in sorted(by_job)}


def _timeout(interval_seconds: float) -> str:
    seconds = min(interval_seconds, DEFAULT_SCRAPE_TIMEOUT)
    return f"{int(seconds * 1000)}ms"


def probe_job(
    name: str, targets: list[Target], access: dict[str, Any], sd_file: str
) -> dict[str, Any]:
    """The scrape job of one ``<module>_<interval>`` target group: the exporter's /probe with
    ``module``, the group's interval and timeout, targets from ``sd_file``."""
    module, _, interval = name.rpartition("_")
    return {
        "job_name": name,
        "scrape_interval": interval,
        "scrape_timeout": _timeout(targets[0].scrape_interval_seconds),
        "metrics_path": "/probe",
        **access,
        "params": {"module": [module]},
        "file_sd_configs": [{"files": [sd_file]}],
    }


def _hostport(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def exporter_access(scrape: ExporterScrape) -> dict[str, Any]:
    """What a scrape config of the exporter needs when it serves a web config: the scheme, the
    TLS client settings and basic auth with the password by file (never inline)."""
    out: dict[str, Any] = {}
    if scrape.scheme == "https":
        out["scheme"] = "https"
        out.update(_tls_config(scrape))
    if scrape.username and scrape.password_file:
        out["basic_auth"] = {"username": scrape.username, "password_file": scrape.password_file}
    return out


def _tls_config(tls: ExporterScrape | AppTLS) -> dict[str, Any]:
    """``{"tls_config": ...}`` with the files and names that are set (nothing when none is)."""
    config: dict[str, str | bool] = {
        k: v
        for k, v in (("ca_file", tls.ca_file), ("cert_file", tls.cert_file),
                     ("key_file", tls.key_file), ("server_name", tls.server_name))
        if v
    }  # fmt: skip
    if tls.insecure_skip_verify:
        config["insecure_skip_verify"] = True
    return {"tls_config": config} if config else {}


def _alertmanagers(inventory: Inventory) -> list[str]:
    """Every Alertmanager peer under ``scale:`` (alerts are not gossiped), else the one."""
    cluster = inventory.scale.alertmanager if inventory.scale is not None else None
    if cluster is not None:
        return list(cluster.peers)
    return [_hostport(inventory.stack.alertmanager_url)]


def prometheus_config(inventory: Inventory) -> dict[str, Any]:
    exporter = inventory.stack.exporter
    access = exporter_access(inventory.stack.exporter_scrape)
    scrape_configs: list[dict[str, Any]] = [
        {
            "job_name": "fleetwatch",
            "scrape_interval": inventory.defaults.scrape_interval,
            **access,
            "static_configs": [{"targets": [exporter]}],
        }
    ]
    for name, hosts in jobs(inventory).items():
        scrape_configs.append(
            {
                **probe_job(name, hosts, access, f"{TARGETS_DIR}/{name}.json"),
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": exporter},
                ],
            }
        )
    scrape_configs.extend(node_jobs(inventory))
    scrape_configs.extend(app_job(app) for app in sorted(inventory.apps(), key=lambda a: a.name))
    return {
        "global": {
            "scrape_interval": inventory.defaults.scrape_interval,
            "evaluation_interval": inventory.defaults.scrape_interval,
        },
        "rule_files": [f"{RULES_DIR}/*.yml"],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": _alertmanagers(inventory)}]}]
        },
        "scrape_configs": scrape_configs,
    }


def node_jobs(inventory: Inventory) -> list[dict[str, Any]]:
    """``node_<interval>``: the hosts that run their own node_exporter, scraped at /metrics."""
    by_interval: dict[str, list[Host]] = defaultdict(list)
    for host in inventory.hosts():
        if host.node_exporter:
            by_interval[host.scrape_interval].append(host)
    out = []
    for interval in sorted(by_interval):
        hosts = sorted(by_interval[interval], key=lambda h: h.name)
        out.append(
            {
                "job_name": job_name(NODE_JOB_PREFIX, interval),
                "scrape_interval": interval,
                "scrape_timeout": _timeout(hosts[0].scrape_interval_seconds),
                "static_configs": [
                    {
                        "targets": [h.node_exporter or h.address],
                        "labels": {"instance": h.name, **target_labels(h)},
                    }
                    for h in hosts
                ],
            }
        )
    return out


def app_access(app: App) -> dict[str, Any]:
    """An app's scheme, auth (secrets by file) and TLS client settings."""
    out: dict[str, Any] = {"scheme": app.scheme, "metrics_path": app.metrics_path}
    if app.auth.username and app.auth.password_file:
        out["basic_auth"] = {"username": app.auth.username, "password_file": app.auth.password_file}
    if app.auth.bearer_token_file:
        out["authorization"] = {"type": "Bearer", "credentials_file": app.auth.bearer_token_file}
    return {**out, **_tls_config(app.tls)}


def app_job(app: App) -> dict[str, Any]:
    """``app_<name>``: one job per app, as each may have its own path, auth and TLS."""
    return {
        "job_name": job_name(APP_JOB_PREFIX, app.name),
        "scrape_interval": app.scrape_interval,
        "scrape_timeout": _timeout(app.scrape_interval_seconds),
        **app_access(app),
        "static_configs": [
            {"targets": [app.address], "labels": {"instance": app.name, **target_labels(app)}}
        ],
    }


def file_sd(hosts: list[Target]) -> list[dict[str, Any]]:
    return [{"targets": [h.name], "labels": target_labels(h)} for h in hosts]


def exact(value: float) -> str:
    """A number as PromQL reads it back exactly (no 2.74878e+11 for 256 GiB)."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _vector(record: str, value: float, labels: dict[str, str]) -> dict[str, Any]:
    return {"record": record, "expr": f"vector({exact(value)})", "labels": labels}


def inventory_rules(inventory: Inventory) -> dict[str, Any]:
    """Inventory facts as series: allocated resources per deployment; per host maintenance
    (1 / 0) and alert thresholds (``instance:threshold:ratio{resource=cpu|memory|disk}``,
    the host's percent / 100: fleet defaults < deployment < host)."""
    rules: list[dict[str, Any]] = []
    for dep in inventory.deployments:
        labels = {"deployment": dep.name, "provider": dep.provider}
        res = dep.resources
        if res is None:
            continue
        if res.cpu_cores is not None:
            rules.append(_vector(rule_names.ALLOCATED_CPU_CORES, res.cpu_cores, labels))
        if res.memory_bytes is not None:
            rules.append(_vector(rule_names.ALLOCATED_MEMORY_BYTES, res.memory_bytes, labels))
        if res.storage_bytes is not None:
            rules.append(_vector(rule_names.ALLOCATED_STORAGE_BYTES, res.storage_bytes, labels))
    for host in sorted(inventory.hosts(), key=lambda h: h.name):
        labels = {"instance": host.name, "deployment": host.deployment, "provider": host.provider}
        # the environment too: this series lists every host, up or not (servers by environment)
        rules.append(
            _vector(
                rule_names.MAINTENANCE,
                1 if host.maintenance else 0,
                {**labels, "environment": host.environment},
            )
        )
        # alert thresholds as series, so one alert rule joins them instead of one rule per host
        t = host.thresholds
        for resource, percent in (("cpu", t.cpu), ("memory", t.memory), ("disk", t.disk)):
            rules.append(
                _vector(
                    rule_names.THRESHOLD,
                    percent / 100,
                    {**labels, "resource": resource},
                )
            )
    rules += dependency_rules(inventory)
    return {"groups": [{"name": "fleetwatch-inventory", "rules": rules}]}


def dependency_rules(inventory: Inventory) -> list[dict[str, Any]]:
    """The ``depends_on`` graph as series for the health grid's node graph: one edge per
    dependency (``source`` needs ``target``), one node per target on either end."""
    edges = inventory.dependencies()
    everything: list[Host | Service | App] = [
        *inventory.hosts(),
        *inventory.services(),
        *inventory.apps(),
    ]
    named = {t.name: t for t in everything}
    rules = [
        _vector(rule_names.DEPENDENCY, 1, {"source": source, "target": target})
        for source, target in edges
    ]
    for name in sorted({n for edge in edges for n in edge}):
        t = named[name]
        labels = {
            "instance": name,
            "title": name,
            "deployment": t.deployment,
            "provider": t.provider,
        }
        rules.append(_vector(rule_names.DEPENDENCY_NODE, 1, labels))
    return rules


def write_prometheus(inventory: Inventory, out: Path) -> list[Path]:
    """Write prometheus.yml, targets/*.json and rules/inventory.yml under ``out``."""
    source = inventory.path
    written = [write_yaml(out / PROMETHEUS_CONFIG, prometheus_config(inventory), source)]
    for name, hosts in jobs(inventory).items():
        written.append(write_json(out / TARGETS_DIR / f"{name}.json", file_sd(hosts)))
    written.append(
        write_yaml(out / RULES_DIR / INVENTORY_RULES, inventory_rules(inventory), source)
    )
    written.append(write_catalog(inventory, out / CATALOG))
    return written


def write_catalog(inventory: Inventory, path: Path) -> Path:
    """The metrics the inventory defines (custom SQL queries) and those of its apps' catalog
    files (``apps: [{catalog: FILE}]``), in the catalog format: validate knows them on the
    build's dashboards and rules."""
    from fleetwatch.catalog import inventory_catalog, load_catalog
    from fleetwatch.catalog.save import dump_catalog

    catalog = inventory_catalog(inventory)
    files = sorted({a.catalog for a in inventory.apps() if a.catalog})
    if files:
        catalog = catalog.merge(*(load_catalog(f) for f in files))
    text = dump_catalog(catalog, "inventory", inventory.path or "inventory")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
