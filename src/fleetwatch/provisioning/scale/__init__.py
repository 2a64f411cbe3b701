"""``build/scale/``: the configs of a scaled-out topology (only with the inventory's ``scale:``).

Layout in ``fleetwatch.layout``; scrapers in ``scrapers``, the store / rules / Alertmanager
cluster in ``engines``.  Deterministic like the rest of the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetwatch.config.writers import write_json, write_yaml
from fleetwatch.inventory import Inventory
from fleetwatch.inventory.assign import assignment
from fleetwatch.layout import ARGS_SUFFIX, SCALE_ASSIGNMENT, TARGETS_DIR
from fleetwatch.provisioning.scale import alerts, engines, scrapers


def write_args(path: Path, args: list[str]) -> Path:
    """One argument a line (``xargs -d '\\n' -a FILE vmagent`` or read by ``fleetwatch up``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{a}\n" for a in args), encoding="utf-8")
    return path


def assignment_doc(inventory: Inventory, owners: dict[str, str]) -> dict[str, Any]:
    scale = inventory.scale
    assert scale is not None
    counts = {e.id: 0 for e in scale.exporters}
    for e in owners.values():
        counts[e] += 1
    return {
        "exporters": {
            e.id: {"address": e.address, "shard": scale.shard_of(e.id), "targets": counts[e.id]}
            for e in sorted(scale.exporters, key=lambda e: e.id)
        },
        "targets": {
            t: {"exporter": e, "shard": scale.shard_of(e)} for t, e in sorted(owners.items())
        },
    }


def write_scale(
    inventory: Inventory, out: Path, runbook_url_pattern: str | None = None
) -> list[Path]:
    """Write ``out`` (the build's ``scale/``); nothing without ``scale:``.
    ``runbook_url_pattern``: the content's (rules/config.yaml), for ExporterDown."""
    scale = inventory.scale
    if scale is None:
        return []
    source = inventory.path
    owners = assignment(inventory)
    written = [write_json(out / SCALE_ASSIGNMENT, assignment_doc(inventory, owners))]
    interval = inventory.defaults.scrape_interval
    for shard, shard_jobs in scrapers.shard_targets(inventory, scale, owners).items():
        shard_dir = out / scrapers.shard_name(shard)
        for job, targets in shard_jobs.items():
            sd = scrapers.file_sd(targets, scale, owners)
            written.append(write_json(shard_dir / TARGETS_DIR / f"{job}.json", sd))
        for replica in range(scale.scraper.replicas):
            rdir = shard_dir / f"replica-{replica}"
            if scale.scraper.engine == "prometheus-agent":
                config = scrapers.agent_config(inventory, scale, shard, replica, shard_jobs)
                written.append(write_yaml(rdir / "prometheus.yml", config, source))
            else:
                configs = scrapers.scrape_configs(inventory, scale, shard, shard_jobs)
                doc = {"global": {"scrape_interval": interval}, "scrape_configs": configs}
                written.append(write_yaml(rdir / "scrape.yml", doc, source))
                path = f"scale/{scrapers.shard_name(shard)}/replica-{replica}/scrape.yml"
                args = scrapers.vmagent_args(scale, shard, replica, path)
                written.append(write_args(rdir / f"vmagent{ARGS_SUFFIX}", args))
    rules = out / "rules"
    shards = [scrapers.shard_name(s) for s in range(scale.scraper.shards)]
    scale_rules = alerts.scale_rules(
        interval, scale.storage.shard_label, shards, runbook_url_pattern
    )
    written.append(write_yaml(rules / alerts.RULE_NAME, scale_rules, source))
    if scale.rules.evaluator == "vmalert":
        written.append(
            write_args(rules / f"vmalert{ARGS_SUFFIX}", engines.vmalert_args(scale, interval))
        )
    elif scale.storage.kind == "mimir":
        written.append(write_yaml(rules / "mimir-ruler.yaml", engines.mimir_ruler(scale), source))
    else:
        written.append(
            write_args(rules / f"thanos-rule{ARGS_SUFFIX}", engines.thanos_rule_args(scale))
        )
    storage = out / "storage"
    for name, args in engines.storage_args(scale).items():
        written.append(write_args(storage / f"{name}{ARGS_SUFFIX}", args))
    if scale.storage.kind == "mimir":
        written.append(write_yaml(storage / "mimir-ha.yaml", engines.mimir_ha(scale), source))
    for i, args in enumerate(engines.alertmanager_args(scale)):
        written.append(write_args(out / "alertmanager" / f"peer-{i}{ARGS_SUFFIX}", args))
    return written
