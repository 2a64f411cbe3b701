"""The other engines of a scaled-out build: the store's HA settings, the rule evaluator and
the Alertmanager cluster.

Rules run once, against the global store, from the same files as the single-Prometheus build
(``prometheus/rules/*.yml``: the packs and the inventory's own rules, not one copy per shard),
plus the scale-out's own ``ExporterDown`` (``alerts.RULE_FILE``).
Every alert sender lists every Alertmanager peer (alerts are not gossiped, only silences and
notification logs are), never a load balancer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fleetwatch.inventory.scale import Scale
from fleetwatch.layout import ALERTMANAGER, ALERTMANAGER_CONFIG, PROMETHEUS, RULES_DIR
from fleetwatch.provisioning.scale.alerts import RULE_FILE

#: the rule files, relative to the build folder (where the evaluator runs)
RULE_GLOB = f"{PROMETHEUS}/{RULES_DIR}/*.yml"


def _listen(url: str) -> str:
    return urlsplit(url).netloc


def peer_urls(scale: Scale) -> list[str]:
    return [f"http://{p}" for p in scale.alertmanager.peers] if scale.alertmanager else []


def vmalert_args(scale: Scale, evaluation_interval: str) -> list[str]:
    """vmalert: the query endpoint as datasource, results written back, every peer notified."""
    storage = scale.storage
    args = [
        f"-rule={RULE_GLOB}",
        f"-rule={RULE_FILE}",
        f"-datasource.url={storage.query_url}",
        f"-remoteRead.url={storage.query_url}",
        f"-remoteWrite.url={storage.write_url}",
        "-remoteWrite.disablePathAppend",
        f"-evaluationInterval={evaluation_interval}",
    ]
    args += [f"-notifier.url={u}" for u in peer_urls(scale)]
    return args


def thanos_rule_args(scale: Scale) -> list[str]:
    """Thanos Rule against Thanos Query (``--label`` is required; ``replica`` deduplicates)."""
    args = [
        f"--rule-file={RULE_GLOB}",
        f"--rule-file={RULE_FILE}",
        f"--query={scale.storage.query_url}",
        '--label=replica="rule-a"',
    ]
    args += [f"--alertmanagers.url={u}" for u in peer_urls(scale)]
    return args


def mimir_ruler(scale: Scale) -> dict[str, Any]:
    """The ruler block of Mimir's config: every peer, comma-separated (rules are uploaded
    from ``prometheus/rules`` and ``scale/rules`` with ``mimirtool rules sync``)."""
    return {"ruler": {"alertmanager_url": ",".join(peer_urls(scale))}}


def mimir_ha(scale: Scale) -> dict[str, Any]:
    """Mimir's HA tracker: one replica per ``cluster`` accepted, ``__replica__`` dropped."""
    return {
        "distributor": {
            "ha_tracker": {"enable_ha_tracker": True, "kvstore": {"store": "memberlist"}}
        },
        "limits": {
            "accept_ha_samples": True,
            "ha_cluster_label": scale.storage.shard_label,
            "ha_replica_label": scale.storage.replica_label,
        },
    }


def storage_args(scale: Scale) -> dict[str, list[str]]:
    """name -> flags of the store's processes (what the HA labels need of them)."""
    storage = scale.storage
    dedup = f"-dedup.minScrapeInterval={storage.dedup_interval}"
    if storage.kind == "victoriametrics":
        return {"victoria-metrics": [f"-httpListenAddr={_listen(storage.query_url)}", dedup]}
    if storage.kind == "victoriametrics-cluster":  # both deduplicate (VictoriaMetrics' docs)
        return {"vmselect": [dedup], "vmstorage": [dedup]}
    if storage.kind == "thanos-receive":
        return {
            "thanos-receive": [
                f"--remote-write.address={_listen(storage.write_url)}",
                '--label=receive_replica="0"',
            ],
            "thanos-query": [f"--query.replica-label={storage.replica_label}"],
        }
    return {}  # mimir: a config block, see mimir_ha


def alertmanager_args(scale: Scale) -> list[list[str]]:
    """Per peer: its web and gossip addresses and every other peer to join."""
    cluster = scale.alertmanager
    if cluster is None:
        return []
    config = f"{ALERTMANAGER}/{ALERTMANAGER_CONFIG}"
    out = []
    for peer in cluster.peers:
        args = [
            f"--config.file={config}",
            f"--web.listen-address={peer}",
            f"--cluster.listen-address={cluster.gossip(peer)}",
        ]
        args += [f"--cluster.peer={cluster.gossip(p)}" for p in cluster.peers if p != peer]
        out.append(args)
    return out
