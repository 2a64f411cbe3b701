"""The inventory's ``scale:`` section: schema, semantic checks, model."""

from __future__ import annotations

import pytest
from tests.inventory.scale_fixtures import scale_inventory, scale_yaml

from fleetwatch.errors import ConfigErrors
from fleetwatch.inventory import default_inventory, inventory_from_text


def test_without_scale_the_model_has_none() -> None:
    assert default_inventory().scale is None


def test_scale_model_with_defaults_applied() -> None:
    inv = scale_inventory(hosts=3, exporters=3, shards=2, replicas=2)
    scale = inv.scale
    assert scale is not None
    assert [e.id for e in scale.exporters] == ["ex-0", "ex-1", "ex-2"]
    assert scale.exporter("ex-1").address == "127.0.0.1:19701"
    assert (scale.scraper.engine, scale.scraper.shards, scale.scraper.replicas) == (
        "prometheus-agent",
        2,
        2,
    )
    assert scale.storage.write_url == "http://127.0.0.1:8428/api/v1/write"
    assert scale.storage.query_url == "http://127.0.0.1:8428"
    assert scale.storage.dedup_interval == "15s"  # the scrape interval
    assert scale.storage.replica_label == "replica" and scale.storage.dedups_identical
    assert scale.alertmanager is not None
    assert scale.alertmanager.peers == ("127.0.0.1:19093", "127.0.0.1:19095")
    assert [scale.shard_of(e) for e in ("ex-0", "ex-1", "ex-2")] == [0, 1, 0]


@pytest.mark.parametrize(
    ("storage", "write", "query", "replica", "shard"),
    [
        (
            "kind: victoriametrics-cluster\n    url: http://vmauth:8427/",
            "http://vmauth:8427/insert/0/prometheus/api/v1/write",
            "http://vmauth:8427/select/0/prometheus",
            "replica",
            "shard",
        ),
        (
            "kind: mimir\n    url: http://mimir:8080",
            "http://mimir:8080/api/v1/push",
            "http://mimir:8080/prometheus",
            "__replica__",
            "cluster",
        ),
        (
            "kind: thanos-receive\n    urls: {write: 'http://recv:19291/api/v1/receive',"
            " query: 'http://query:9090'}",
            "http://recv:19291/api/v1/receive",
            "http://query:9090",
            "replica",
            "shard",
        ),
    ],
)
def test_storage_urls_and_ha_labels_per_kind(
    storage: str, write: str, query: str, replica: str, shard: str
) -> None:
    s = scale_inventory(storage=storage).scale
    assert s is not None
    assert (s.storage.write_url, s.storage.query_url) == (write, query)
    assert (s.storage.replica_label, s.storage.shard_label) == (replica, shard)


def _errors(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        inventory_from_text(text, "fleet.yaml")
    return str(info.value).splitlines()


def test_bad_scale_blocks_are_named_by_line_and_key() -> None:
    text = scale_yaml(
        hosts=2,
        exporters=2,
        shards=3,
        extra="  pins:\n    host-0001: ex-9\n    nosuch: ex-0\n",
    ).replace("id: ex-1", "id: ex-0")
    errors = _errors(text)
    assert any(
        "duplicate exporter id 'ex-0'" in e and "(scale.exporters[1].id)" in e for e in errors
    )
    assert any("3 shards but 1 exporters" in e for e in errors)
    assert any(
        "pin to unknown exporter 'ex-9'" in e and "scale.pins.host-0001" in e for e in errors
    )
    assert any("pin of 'nosuch': no such host or service" in e for e in errors)
    assert all(e.startswith("fleet.yaml:") for e in errors)


def test_schema_rejects_an_unknown_engine_and_thanos_without_query() -> None:
    errors = _errors(scale_yaml(engine="cortex-agent"))
    assert any("scale.scraper.engine" in e for e in errors)
    errors = _errors(scale_yaml(storage="kind: thanos-receive\n    url: http://recv:19291"))
    assert any("Thanos Receive only ingests" in e for e in errors)
    errors = _errors(
        scale_yaml(
            storage="kind: victoriametrics\n    url: http://a:1\n"
            "    urls: {write: 'http://a', query: 'http://b'}"
        )
    )
    assert any("give storage.url" in e for e in errors)


def test_alertmanager_gossip_ports_must_not_clash() -> None:
    text = scale_yaml().replace("127.0.0.1:19095]", "127.0.0.1:19094]")
    assert any("gossip address 127.0.0.1:19094" in e for e in _errors(text))
    fixed = text.replace("127.0.0.1:19094]", "127.0.0.1:19094]\n    cluster_port: 9300")
    with pytest.raises(ConfigErrors):  # one port for all peers on one host clashes too
        inventory_from_text(fixed, "fleet.yaml")
