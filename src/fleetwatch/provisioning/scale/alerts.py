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
so it fires, and inhibits, before any host-down alert of the same cause can notify.  The rule
file sits in ``scale/`` and not in ``prometheus/rules/``, so the single-Prometheus build stays
byte-identical; the evaluator reads both (``engines``).
"""

from __future__ import annotations

from typing import Any

from fleetwatch.config.durations import parse_duration
from fleetwatch.inventory.scale import EXPORTER_LABEL
from fleetwatch.layout import SCALE

EXPORTER_DOWN_ALERT = "ExporterDown"
#: the scrapers' job of the exporter replicas' own /metrics (``scrapers.scrape_configs``)
SELF_JOB = "fleetwatch"
#: the rule file, in scale/rules/, and relative to the build folder (where the evaluator runs)
RULE_NAME = "exporters.yml"
RULE_FILE = f"{SCALE}/rules/{RULE_NAME}"
#: scrape intervals an exporter must fail before it is called down (one miss is a blip)
MISSED_SCRAPES = 3

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


def exporter_rules(scrape_interval: str, runbook_url_pattern: str | None = None) -> dict[str, Any]:
    """The rule file of ``ExporterDown`` (Prometheus' rule format, read by every evaluator);
    its runbook from the content's ``rules/config.yaml`` pattern when there is one."""
    wait = _seconds(MISSED_SCRAPES * parse_duration(scrape_interval))
    annotations = {
        "summary": "A fleetwatch exporter replica is down.",
        "description": (
            f"Exporter {{{{ $labels.{EXPORTER_LABEL} }}}} has not answered its own scrape, "
            f"or every probe through it failed, for {wait}. The down alerts of its targets "
            "are inhibited: their hosts may be fine."
        ),
    }
    if runbook_url_pattern:
        annotations["runbook_url"] = runbook_url_pattern.replace("{alertname}", EXPORTER_DOWN_ALERT)
    return {
        "groups": [
            {
                "name": "fleetwatch-scale",
                "rules": [
                    {
                        "alert": EXPORTER_DOWN_ALERT,
                        "expr": EXPORTER_DOWN_EXPR,
                        "for": wait,
                        "labels": {"severity": "critical"},
                        "annotations": annotations,
                    }
                ],
            }
        ]
    }


#: Alertmanager: while ``ExporterDown{exporter=X}`` fires, the down alerts of X's targets are
#: muted (``equal: [exporter]``); ``ExporterDown`` itself pages
EXPORTER_MUTES = ((EXPORTER_DOWN_ALERT, EXPORTER_LABEL),)
