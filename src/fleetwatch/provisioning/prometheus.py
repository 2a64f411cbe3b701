"""prometheus.yml, file_sd target files and the inventory's recording rules.

One scrape job per (module, interval), named ``<module>_<interval>`` (``ssh_15s``), using the
multi-target pattern: ``__address__`` → ``__param_target`` → ``instance``, then the exporter's
address.  Every target carries ``deployment``, ``provider``, ``maintenance`` and the
inventory's own labels, so any panel can be sliced by provider and deployment.  Hosts in
maintenance are kept and marked (``maintenance="true"``), never dropped.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fleetwatch import rule_names
from fleetwatch.config.writers import write_json, write_yaml
from fleetwatch.inventory import Host, Inventory, Service
from fleetwatch.inventory.model import ExporterScrape
from fleetwatch.layout import CATALOG, INVENTORY_RULES, PROMETHEUS_CONFIG, RULES_DIR, TARGETS_DIR

DEFAULT_SCRAPE_TIMEOUT = 10.0


def job_name(module: str, interval: str) -> str:
    return f"{module}_{interval}"


Target = Host | Service


def target_labels(host: Target) -> dict[str, str]:
    labels = {
        "deployment": host.deployment,
        "provider": host.provider,
        "maintenance": "true" if host.maintenance else "false",
    }
    labels.update(sorted(host.labels.items()))
    return labels


def jobs(inventory: Inventory) -> dict[str, list[Target]]:
    """Hosts and services by scrape job, jobs in a stable order."""
    by_job: dict[str, list[Target]] = defaultdict(list)
    targets: list[Target] = [*inventory.hosts(), *inventory.services()]
    for target in targets:
        for module in target.modules:
            by_job[job_name(module, target.scrape_interval)].append(target)
    return {name: sorted(by_job[name], key=lambda h: h.name) for name in sorted(by_job)}


def _timeout(interval_seconds: float) -> str:
    seconds = min(interval_seconds, DEFAULT_SCRAPE_TIMEOUT)
    return f"{int(seconds * 1000)}ms"


def _hostport(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def exporter_access(scrape: ExporterScrape) -> dict[str, Any]:
    """What a scrape config of the exporter needs when it serves a web config: the scheme, the
    TLS client settings and basic auth with the password by file (never inline)."""
    out: dict[str, Any] = {}
    if scrape.scheme == "https":
        out["scheme"] = "https"
        tls: dict[str, str | bool] = {
            k: v
            for k, v in (("ca_file", scrape.ca_file), ("cert_file", scrape.cert_file),
                         ("key_file", scrape.key_file), ("server_name", scrape.server_name))
            if v
        }  # fmt: skip
        if scrape.insecure_skip_verify:
            tls["insecure_skip_verify"] = True
        if tls:
            out["tls_config"] = tls
    if scrape.username and scrape.password_file:
        out["basic_auth"] = {"username": scrape.username, "password_file": scrape.password_file}
    return out


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
        module, _, interval = name.rpartition("_")
        scrape_configs.append(
            {
                "job_name": name,
                "scrape_interval": interval,
                "scrape_timeout": _timeout(hosts[0].scrape_interval_seconds),
                "metrics_path": "/probe",
                **access,
                "params": {"module": [module]},
                "file_sd_configs": [{"files": [f"{TARGETS_DIR}/{name}.json"]}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": exporter},
                ],
            }
        )
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
        rules.append(_vector(rule_names.MAINTENANCE, 1 if host.maintenance else 0, labels))
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
    return {"groups": [{"name": "fleetwatch-inventory", "rules": rules}]}


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
    """The metrics the inventory itself defines (custom SQL queries), in the catalog format:
    validate knows them on the build's dashboards and rules."""
    from fleetwatch.catalog import inventory_catalog
    from fleetwatch.catalog.save import dump_catalog

    text = dump_catalog(inventory_catalog(inventory), "inventory", inventory.path or "inventory")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
