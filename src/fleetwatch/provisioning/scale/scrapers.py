"""The scrapers of a scaled-out build: file_sd per shard, one config per shard replica.

The assignment is the build's (``inventory.assign``), written into the targets themselves:
each file_sd entry's ``__address__`` is its exporter replica's address and ``__param_target``
the target, so neither Prometheus' ``hashmod`` (md5) nor vmagent's membership hashing (xxhash
over every label: a label change would move a target) decides anything.  Replicas of a shard
differ only in their replica label.

What Prometheus scrapes itself (apps, hosts with their own node_exporter) has no exporter: each
such target goes to one shard by rendezvous hashing of its name over the shards, with the jobs
and labels of the single-Prometheus build.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fleetwatch.inventory import Inventory
from fleetwatch.inventory.assign import owner
from fleetwatch.inventory.scale import EXPORTER_LABEL, Scale
from fleetwatch.layout import TARGETS_DIR
from fleetwatch.provisioning.prometheus import (
    Target,
    app_job,
    exporter_access,
    jobs,
    node_jobs,
    probe_job,
    target_labels,
)

#: the replica names of a shard: a, b, c ...
REPLICA_NAMES = "abcdefgh"


def replica_name(shard: int, replica: int) -> str:
    return f"{shard}-{REPLICA_NAMES[replica]}"


def shard_name(shard: int) -> str:
    return f"shard-{shard}"


def shard_targets(
    inventory: Inventory, scale: Scale, owners: dict[str, str]
) -> dict[int, dict[str, list[Target]]]:
    """shard -> job -> its targets (sorted by name); every shard present, empty or not.
    ``owners``: the inventory's assignment (target -> exporter id)."""
    out: dict[int, dict[str, list[Target]]] = {s: {} for s in range(scale.scraper.shards)}
    for job, targets in jobs(inventory).items():
        by_shard: dict[int, list[Target]] = defaultdict(list)
        for t in targets:
            by_shard[scale.shard_of(owners[t.name])].append(t)
        for shard, ts in by_shard.items():
            out[shard][job] = ts
    return out


def file_sd(targets: list[Target], scale: Scale, owners: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per target: scraped at its exporter, labelled with it."""
    return [
        {
            "targets": [scale.exporter(owners[t.name]).address],
            "labels": {
                "__param_target": t.name,
                "instance": t.name,
                EXPORTER_LABEL: owners[t.name],
                **target_labels(t),
            },
        }
        for t in targets
    ]


def external_labels(scale: Scale, shard: int, replica: int) -> dict[str, str]:
    """The HA labels the store expects: Mimir ``cluster`` + ``__replica__``; the others
    ``shard`` + ``replica`` (VictoriaMetrics drops ``replica`` on write, see remote_write)."""
    storage = scale.storage
    return {
        storage.shard_label: shard_name(shard),
        storage.replica_label: replica_name(shard, replica),
    }


def scrape_configs(
    inventory: Inventory, scale: Scale, shard: int, shard_jobs: dict[str, list[Target]]
) -> list[dict[str, Any]]:
    access = exporter_access(inventory.stack.exporter_scrape)
    own = sorted(e.id for e in scale.exporters if scale.shard_of(e.id) == shard)
    configs: list[dict[str, Any]] = [
        {
            "job_name": "fleetwatch",
            "scrape_interval": inventory.defaults.scrape_interval,
            **access,
            "static_configs": [
                {"targets": [scale.exporter(e).address], "labels": {EXPORTER_LABEL: e}} for e in own
            ],
        }
    ]
    for name, targets in shard_jobs.items():
        # file_sd relative to the config's own folder (shard-<n>/replica-<m>/)
        configs.append(probe_job(name, targets, access, f"../{TARGETS_DIR}/{name}.json"))
    return configs + direct_jobs(inventory, scale, shard)


def direct_shard(name: str, scale: Scale) -> int:
    """The shard that scrapes ``name`` itself (an app, a host's own node_exporter)."""
    return int(owner(name, [str(s) for s in range(scale.scraper.shards)]))


def direct_jobs(inventory: Inventory, scale: Scale, shard: int) -> list[dict[str, Any]]:
    """The single-Prometheus build's app and node_exporter jobs, each with the targets of
    ``shard`` only (a job left with none is left out)."""
    out = []
    for job in node_jobs(inventory):
        mine = [
            sc
            for sc in job["static_configs"]
            if direct_shard(sc["labels"]["instance"], scale) == shard
        ]
        if mine:
            out.append({**job, "static_configs": mine})
    out += [app_job(a) for a in inventory.apps() if direct_shard(a.name, scale) == shard]
    return out


def remote_write(scale: Scale) -> dict[str, Any]:
    out: dict[str, Any] = {"url": scale.storage.write_url}
    if scale.storage.dedups_identical:
        # VictoriaMetrics keeps one sample per -dedup.minScrapeInterval of *identical* series
        out["write_relabel_configs"] = [
            {"action": "labeldrop", "regex": scale.storage.replica_label}
        ]
    return out


def agent_config(
    inventory: Inventory,
    scale: Scale,
    shard: int,
    replica: int,
    shard_jobs: dict[str, list[Target]],
) -> dict[str, Any]:
    """prometheus.yml of a Prometheus in agent mode: scrape and remote_write only."""
    return {
        "global": {
            "scrape_interval": inventory.defaults.scrape_interval,
            "external_labels": external_labels(scale, shard, replica),
        },
        "scrape_configs": scrape_configs(inventory, scale, shard, shard_jobs),
        "remote_write": [remote_write(scale)],
    }


def vmagent_args(scale: Scale, shard: int, replica: int, config: str) -> list[str]:
    """vmagent's flags (its ``-promscrape.config`` holds the scrape configs only)."""
    labels = external_labels(scale, shard, replica)
    if scale.storage.dedups_identical:
        labels.pop(scale.storage.replica_label)
    args = [f"-promscrape.config={config}", f"-remoteWrite.url={scale.storage.write_url}"]
    args += [f"-remoteWrite.label={k}={v}" for k, v in sorted(labels.items())]
    return args
