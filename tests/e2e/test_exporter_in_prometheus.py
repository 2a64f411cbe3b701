"""A real Prometheus scrapes the exporter through the multi-target relabeling.

up is 1; sshd stops → up 0 and fleetwatch_probe_errors_total grows; sshd starts again →
recovery without restarting the exporter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import ssh_inventory_yaml
from servers import FleetwatchExporter, Prometheus, Sshd, require, sample_values

pytestmark = pytest.mark.e2e

PROMETHEUS_YML = """
global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: node
    metrics_path: /probe
    params: {{module: [ssh]}}
    static_configs: [{{targets: [web-0, web-1]}}]
    relabel_configs:
      - {{source_labels: [__address__], target_label: __param_target}}
      - {{source_labels: [__param_target], target_label: instance}}
      - {{target_label: __address__, replacement: "{exporter}"}}
  - job_name: fleetwatch
    static_configs: [{{targets: ["{exporter}"]}}]
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Sshd, FleetwatchExporter, Prometheus]]:
    require("/usr/sbin/sshd", "prometheus", users=["fwtest"], root=True)
    with Sshd() as sshd:
        inventory = ssh_inventory_yaml(sshd, ["web-0", "web-1"])
        with FleetwatchExporter(inventory) as exp, Prometheus(_config(exp.address)) as prom:
            yield sshd, exp, prom


def _config(exporter: str) -> str:
    return PROMETHEUS_YML.format(exporter=exporter)


def _all(value: float):  # type: ignore[no-untyped-def]
    return lambda result: len(result) == 2 and all(v == value for v in sample_values(result))


def test_up_follows_the_host_and_recovers(
    stack: tuple[Sshd, FleetwatchExporter, Prometheus],
) -> None:
    sshd, exporter, prom = stack
    prom.wait_for('up{job="node"}', _all(1.0), timeout=30)
    # the series carry the instance from the relabeling, and node_exporter's names
    names = prom.query('node_uname_info{job="node"}')
    assert {r["metric"]["instance"] for r in names} == {"web-0", "web-1"}
    prom.wait_for('count by (instance) (node_cpu_seconds_total{job="node"})', _at_least(2))

    errors_before = _errors(prom)
    exporter_pid = exporter.pid
    sshd.stop()
    prom.wait_for('up{job="node"}', _all(0.0), timeout=30)
    prom.wait_for(
        "sum(fleetwatch_probe_errors_total)",
        lambda r: bool(r) and sample_values(r)[0] > errors_before,
        timeout=30,
    )
    reasons = prom.query("sum by (reason) (fleetwatch_probe_errors_total) > 0")
    assert {r["metric"]["reason"] for r in reasons} <= {
        "connection_refused",
        "connection_lost",
        "timeout",
    }

    sshd.start()
    prom.wait_for('up{job="node"}', _all(1.0), timeout=30)
    assert exporter.pid == exporter_pid and exporter.alive


def _at_least(n: int):  # type: ignore[no-untyped-def]
    return lambda result: len(result) == n


def _errors(prom: Prometheus) -> float:
    result = prom.query("sum(fleetwatch_probe_errors_total)")
    return sample_values(result)[0] if result else 0.0
