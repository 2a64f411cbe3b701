"""Helpers for tests that talk to a real Alertmanager (started with servers.AlertmanagerServer)."""

from __future__ import annotations

from collections.abc import Mapping

from fleetwatch.alerting_client import AlertmanagerClient, Matcher
from servers import ALERTMANAGER, NULL_CONFIG, AlertmanagerServer, wait_until

__all__ = ["ALERTMANAGER", "NULL_CONFIG", "AlertmanagerServer", "post_alert", "wait_for_state"]


def post_alert(url: str, labels: Mapping[str, str], **annotations: str) -> None:
    """Send one firing alert (as Prometheus would) to the Alertmanager at ``url``."""
    AlertmanagerClient(url).post_alerts(
        [{"labels": dict(labels), "annotations": annotations, "generatorURL": "http://x/graph"}]
    )


def wait_for_state(client: AlertmanagerClient, alertname: str, state: str) -> None:
    def ok() -> bool:
        found = client.alerts([Matcher("alertname", alertname)])
        return bool(found) and all(a.status == state for a in found)

    wait_until(ok, 10, f"{alertname} to be {state}")
