"""Failure without a storm: one alert for a down exporter replica, muting its targets' alerts.

When an exporter replica dies, every target it probes fails its scrape: without this, one
process gives a HostDown page per host.  The scale build adds

- ``scale/rules/exporters.yml``: ``ExporterDown{exporter=ID}``, from the scrapers' self-scrape
  of the replica (job ``fleetwatch``) or, while it still answers, from every probe through it
  failing when other exporters' probes succeed (its network, its SSH key);
- an Alertmanager inhibit rule: ``ExporterDown`` mutes the down alerts
  (the rules' ``down: true`` alerts) carrying the same ``exporter`` label, which every target's
  series has from its file_sd entry (``scrapers.file_sd``).

``ExporterDown`` waits 3 scrape intervals, far less than HostDown's ``for`` (5m in the pack),
so it fires, and inhibits, before any host-down alert of the same cause can notify.

When every replica of a scraper shard is down (or none can write), its targets' series just
stop: no ``up == 0``, so neither HostDown nor ExporterDown can fire.  ``ScraperShardDown``,
one rule per shard (each has an exporter, so each writes), fires when no sample of the shard's
is in the store, waiting out remote_write's batching and, at a fresh start, the store's
query latency (VictoriaMetrics hides the newest 30 s of samples from queries).

The rule file sits in ``scale/`` and not in ``prometheus/rules/``, so the single-Prometheus
build stays byte-identical; the evaluator reads both (``engines``).
"""

from __future__ import annotations

from typing import Any

from fleetwatch.config.durations import parse_duration
from fleetwatch.inventory.scale import EXPORTER_LABEL
from fleetwatch.layout import SCALE

EXPORTER_DOWN_ALERT = "ExporterDown"
SHARD_DOWN_ALERT = "ScraperShardDown"
#: the scrapers' job of the exporter replicas' own /metrics (``scrapers.scrape_configs``)
SELF_JOB = "fleetwatch"
#: the rule file, in scale/rules/, and relative to the build folder (where the evaluator runs)
RULE_NAME = "exporters.yml"
RULE_FILE = f"{SCALE}/rules/{RULE_NAME}"
#: scrape intervals an exporter must fail before it is called down (one miss is a blip)
MISSED_SCRAPES = 3
#: the shortest window without a sample before a shard counts as silent: remote_write sends a
#: batch every 5 s at least (Prometheus' batch_send_deadline), and its queue may lag behind
SHARD_WINDOW_MIN = 30.0
#: the shortest wait of ScraperShardDown: at a fresh start the store may show no sample for
#: 30 s (VictoriaMetrics' -search.latencyOffset) though the scrapers write
SHARD_FOR_MIN = 60.0

_PROBES = f'up{{job!="{SELF_JOB}", {EXPORTER_LABEL}!=""}}'
# down: its own /metrics fails, or all of its (2+) targets fail while others' succeed (with
# one target, or the whole fleet failing, the exporter is not the likely cause)
EXPORTER_DOWN_EXPR = (
    f'max by ({EXPORTER_LABEL}) (up{{job="{SELF_JOB}"}}) == 0\n'
    f"or (\n"
    f"  max by ({EXPORTER_LABEL}) ({_PROBES}) == 0\n"
    f"  and count by ({EXPORTER_LABEL}) ({_PROBES}) > 1\n"
    f"  and on () (max({_PROBES}) == 1)\n"
    f")"
)


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _runbook(annotations: dict[str, str], alert: str, pattern: str | None) -> dict[str, str]:
    if pattern:
        annotations["runbook_url"] = pattern.replace("{alertname}", alert)
    return annotations


def exporter_down_rule(scrape_interval: str, runbook_url_pattern: str | None) -> dict[str, Any]:
    wait = _seconds(MISSED_SCRAPES * parse_duration(scrape_interval))
    annotations = {
        "summary": "A fleetwatch exporter replica is down.",
        "description": (
            f"Exporter {{{{ $labels.{EXPORTER_LABEL} }}}} has not answered its own scrape, "
            f"or every probe through it failed, for {wait}. The down alerts of its targets "
            "are inhibited: their hosts may be fine."
        ),
    }
    return {
        "alert": EXPORTER_DOWN_ALERT,
        "expr": EXPORTER_DOWN_EXPR,
        "for": wait,
        "labels": {"severity": "critical"},
        "annotations": _runbook(annotations, EXPORTER_DOWN_ALERT, runbook_url_pattern),
    }


def shard_down_rule(
    shard_label: str, shard: str, scrape_interval: str, runbook_url_pattern: str | None
) -> dict[str, Any]:
    """``ScraperShardDown{<shard_label>=shard}``: no sample of the shard's in the store (its
    ``up`` series, which every scrape writes, failed or not)."""
    interval = parse_duration(scrape_interval)
    window = _seconds(max(MISSED_SCRAPES * interval, SHARD_WINDOW_MIN))
    wait = _seconds(max(MISSED_SCRAPES * interval, SHARD_FOR_MIN))
    annotations = {
        "summary": "A scraper shard writes nothing: every replica of it is down or cut off.",
        "description": (
            f"No sample of scraper shard {{{{ $labels.{shard_label} }}}} has reached the store "
            f"for {window} (and {wait} more). Its targets are not monitored meanwhile: their "
            "down alerts cannot fire."
        ),
    }
    return {
        "alert": SHARD_DOWN_ALERT,
        "expr": f'absent_over_time(up{{{shard_label}="{shard}"}}[{window}])',
        "for": wait,
        "labels": {"severity": "critical"},
        "annotations": _runbook(annotations, SHARD_DOWN_ALERT, runbook_url_pattern),
    }


def scale_rules(
    scrape_interval: str,
    shard_label: str,
    shards: list[str],
    runbook_url_pattern: str | None = None,
) -> dict[str, Any]:
    """The rule file of the scale-out's own alerts (Prometheus' rule format, read by every
    evaluator): ``ExporterDown``, and ``ScraperShardDown`` for each of ``shards``; runbooks
    from the content's ``rules/config.yaml`` pattern if any."""
    rules = [exporter_down_rule(scrape_interval, runbook_url_pattern)]
    rules += [
        shard_down_rule(shard_label, shard, scrape_interval, runbook_url_pattern)
        for shard in shards
    ]
    return {"groups": [{"name": "fleetwatch-scale", "rules": rules}]}


#: Alertmanager: while ``ExporterDown{exporter=X}`` fires, the down alerts of X's targets are
#: muted (``equal: [exporter]``); ``ExporterDown`` itself pages
EXPORTER_MUTES = ((EXPORTER_DOWN_ALERT, EXPORTER_LABEL),)
