"""The inventory's ``scale:`` section: model, semantic checks and building.

Kept apart from the rest of the inventory on purpose: without ``scale:`` nothing here runs and
``Inventory.scale`` is None, so every single-Prometheus build stays as it was.  The JSON Schema
lives beside it (``scale_schema.json``) and is put under ``properties.scale`` of the inventory's
schema when that is loaded.

The HA labels each store expects (their documented conventions):

- VictoriaMetrics (single or cluster): the replicas of a shard send *identical* series and the
  store keeps one sample per ``-dedup.minScrapeInterval``; the replica label is dropped on write.
- Mimir: ``cluster`` (the shard) and ``__replica__`` (the replica) in external labels; its HA
  tracker accepts one replica per cluster and drops ``__replica__``.
- Thanos Receive: a ``replica`` external label; Thanos Query deduplicates with
  ``--query.replica-label=replica``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, cast

from fleetwatch.config.durations import parse_duration
from fleetwatch.config.findings import Findings
from fleetwatch.config.yamlpos import JsonPath

Engine = Literal["prometheus-agent", "vmagent"]
StorageKind = Literal["victoriametrics", "victoriametrics-cluster", "mimir", "thanos-receive"]
Evaluator = Literal["vmalert", "ruler"]

DEFAULT_REPLICAS = 2
#: the series label naming the exporter replica that probed a target
EXPORTER_LABEL = "exporter"
SHARD_LABEL = "shard"


@dataclass(frozen=True)
class ExporterReplica:
    """One fleetwatch exporter process: a stable ``id`` (what hashing uses) and where it
    listens (``host:port``, as the scrapers reach it)."""

    id: str
    address: str


@dataclass(frozen=True)
class Scraper:
    engine: Engine = "prometheus-agent"
    shards: int = 1
    replicas: int = DEFAULT_REPLICAS


@dataclass(frozen=True)
class Storage:
    """The global store: where every scraper writes and every reader queries."""

    kind: StorageKind
    write_url: str
    query_url: str
    #: VictoriaMetrics' ``-dedup.minScrapeInterval`` (the scrape interval unless given)
    dedup_interval: str

    @property
    def replica_label(self) -> str:
        return "__replica__" if self.kind == "mimir" else "replica"

    @property
    def shard_label(self) -> str:
        """Mimir's HA tracker names an HA group ``cluster``; the others take ``shard``."""
        return "cluster" if self.kind == "mimir" else SHARD_LABEL

    @property
    def dedups_identical(self) -> bool:
        """True when the store deduplicates identical series (the replica label is dropped)."""
        return self.kind.startswith("victoriametrics")


@dataclass(frozen=True)
class Rules:
    evaluator: Evaluator = "vmalert"
    replicas: int = 1


@dataclass(frozen=True)
class AlertmanagerCluster:
    """Every peer's web address (``host:port``); every alert sender lists them all."""

    peers: tuple[str, ...]
    #: every peer's gossip port; None: its web port + 1 (9093 -> 9094, Alertmanager's defaults)
    cluster_port: int | None = None

    def gossip(self, peer: str) -> str:
        """The ``--cluster.listen-address`` of ``peer`` (``host:port``)."""
        host, _, port = peer.rpartition(":")
        return f"{host}:{self.cluster_port or int(port) + 1}"


@dataclass(frozen=True)
class Scale:
    exporters: tuple[ExporterReplica, ...]
    scraper: Scraper
    storage: Storage
    rules: Rules = field(default_factory=Rules)
    alertmanager: AlertmanagerCluster | None = None
    pins: Mapping[str, str] = field(default_factory=dict)

    def exporter(self, exporter_id: str) -> ExporterReplica:
        """The replica ``exporter_id``; KeyError if there is none."""
        for e in self.exporters:
            if e.id == exporter_id:
                return e
        raise KeyError(exporter_id)

    def shard_of(self, exporter_id: str) -> int:
        """An exporter's shard: its position among the sorted ids, round robin over shards
        (independent of the file's order); KeyError for an unknown id."""
        return self._shards[exporter_id]

    @cached_property
    def _shards(self) -> dict[str, int]:
        ids = sorted(e.id for e in self.exporters)
        return {e: i % self.scraper.shards for i, e in enumerate(ids)}


# --------------------------------------------------------------------------- schema


@cache
def scale_schema() -> dict[str, Any]:
    text = resources.files("fleetwatch.inventory").joinpath("scale_schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


# --------------------------------------------------------------------------- checks


def check_scale(
    block: Any, targets: Mapping[str, JsonPath], findings: Findings, path: JsonPath = ("scale",)
) -> None:
    """What the schema cannot say: unique ids and addresses, pins naming a known target and
    exporter, a shard per exporter at least, the storage URLs each kind needs."""
    if not isinstance(block, dict):
        return
    ids: dict[str, int] = {}
    addresses: dict[str, int] = {}
    exporters = block.get("exporters")
    for i, e in enumerate(exporters if isinstance(exporters, list) else []):
        if not isinstance(e, dict):
            continue
        for key, seen in (("id", ids), ("address", addresses)):
            value = e.get(key)
            if not isinstance(value, str):
                continue
            if value in seen:
                findings.add(
                    (*path, "exporters", i, key),
                    f"duplicate exporter {key} {value!r} (first at exporters[{seen[value]}])",
                )
            else:
                seen[value] = i
    scraper = block.get("scraper")
    shards = scraper.get("shards", 1) if isinstance(scraper, dict) else 1
    if ids and isinstance(shards, int) and shards > len(ids):
        findings.add(
            (*path, "scraper", "shards"),
            f"{shards} shards but {len(ids)} exporters: a shard scrapes whole exporters, "
            "so give at most one shard per exporter",
        )
    pins = block.get("pins")
    for name, exporter_id in (pins if isinstance(pins, dict) else {}).items():
        if name not in targets:
            findings.add((*path, "pins", name), f"pin of {name!r}: no such host or service")
        if isinstance(exporter_id, str) and ids and exporter_id not in ids:
            known = ", ".join(sorted(ids))
            findings.add(
                (*path, "pins", name), f"pin to unknown exporter {exporter_id!r} (known: {known})"
            )
    _check_storage(block.get("storage"), findings, (*path, "storage"))
    am = block.get("alertmanager")
    peers = am.get("peers") if isinstance(am, dict) else None
    if isinstance(peers, list) and all(isinstance(p, str) for p in peers):
        if len(set(peers)) != len(peers):
            findings.add((*path, "alertmanager", "peers"), "peers must be distinct")
            return
        port = am.get("cluster_port") if isinstance(am, dict) else None
        cluster = AlertmanagerCluster(tuple(peers), port if isinstance(port, int) else None)
        gossip = [cluster.gossip(p) for p in peers]
        clash = sorted((set(gossip) & set(peers)) | {g for g in gossip if gossip.count(g) > 1})
        if clash:
            findings.add(
                (*path, "alertmanager", "peers"),
                f"gossip address {clash[0]} (a peer's web port + 1, or cluster_port) is also "
                "another peer's address: space the ports by 2 or set cluster_port",
            )


def _check_storage(storage: Any, findings: Findings, path: JsonPath) -> None:
    if not isinstance(storage, dict):
        return
    kind = storage.get("kind")
    has_url, has_urls = "url" in storage, "urls" in storage
    if has_url == has_urls:
        findings.add(path, "give storage.url (one base URL) or storage.urls {write, query}")
    elif kind == "thanos-receive" and has_url:
        findings.add(
            (*path, "url"),
            "Thanos Receive only ingests: give urls {write: receive's remote-write URL, "
            "query: Thanos Query}",
        )
    interval = storage.get("dedup_interval")
    if isinstance(interval, str):
        try:
            if parse_duration(interval) <= 0:
                findings.add((*path, "dedup_interval"), "must be greater than 0")
        except ValueError as exc:
            findings.add((*path, "dedup_interval"), str(exc))


# --------------------------------------------------------------------------- building

#: (write path, query path) below a single base URL, per store (their documented endpoints)
_PATHS: dict[str, tuple[str, str]] = {
    "victoriametrics": ("/api/v1/write", ""),
    "victoriametrics-cluster": ("/insert/0/prometheus/api/v1/write", "/select/0/prometheus"),
    "mimir": ("/api/v1/push", "/prometheus"),
}


def build_scale(block: dict[str, Any], scrape_interval: str) -> Scale:
    """The model of a validated ``scale:`` block."""
    raw_storage = block["storage"]
    kind = cast(StorageKind, raw_storage["kind"])
    if "urls" in raw_storage:
        write, query = raw_storage["urls"]["write"], raw_storage["urls"]["query"]
    else:
        base = raw_storage["url"].rstrip("/")
        write_path, query_path = _PATHS[kind]
        write, query = base + write_path, base + query_path
    storage = Storage(kind, write, query, raw_storage.get("dedup_interval", scrape_interval))
    raw_scraper = block["scraper"]
    scraper = Scraper(
        engine=cast(Engine, raw_scraper["engine"]),
        shards=int(raw_scraper.get("shards", 1)),
        replicas=int(raw_scraper.get("replicas", DEFAULT_REPLICAS)),
    )
    raw_rules = block.get("rules", {})
    rules = Rules(
        evaluator=cast(Evaluator, raw_rules.get("evaluator", "vmalert")),
        replicas=int(raw_rules.get("replicas", 1)),
    )
    am = block.get("alertmanager")
    cluster = (
        AlertmanagerCluster(
            tuple(am["peers"]), int(am["cluster_port"]) if "cluster_port" in am else None
        )
        if am
        else None
    )
    return Scale(
        exporters=tuple(ExporterReplica(e["id"], e["address"]) for e in block["exporters"]),
        scraper=scraper,
        storage=storage,
        rules=rules,
        alertmanager=cluster,
        pins=MappingProxyType(dict(block.get("pins", {}))),
    )
