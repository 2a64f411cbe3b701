"""Fleet aggregates as recording rules, by deployment and by provider.

Names follow level:metric:operations (``deployment:node_cpu_used_cores:sum_rate5m``).  The
deployment level keeps ``provider`` too (a deployment lives at one provider).
"""

from __future__ import annotations

from typing import Any

from fleetwatch.rules.model import Recording

FS = 'fstype!~"tmpfs|ramfs|squashfs|overlay"'
HOSTS = 'job!="fleetwatch"'

#: metric:operations -> expression of one level ({by} = the grouping labels)
AGGREGATES: dict[str, str] = {
    "node_cpu_used_cores:sum_rate5m": (
        'sum by ({by}) (rate(node_cpu_seconds_total{{mode!="idle"}}[5m]))'
    ),
    "node_cpu_cores:count": 'count by ({by}) (node_cpu_seconds_total{{mode="idle"}})',
    "node_memory_used_bytes:sum": (
        "sum by ({by}) (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)"
    ),
    "node_memory_total_bytes:sum": "sum by ({by}) (node_memory_MemTotal_bytes)",
    "node_filesystem_used_bytes:sum": (
        "sum by ({by}) (max by ({by}, instance, device) "
        f"(node_filesystem_size_bytes{{{{{FS}}}}} - node_filesystem_avail_bytes{{{{{FS}}}}}))"
    ),
    "node_filesystem_size_bytes:sum": (
        "sum by ({by}) (max by ({by}, instance, device) "
        f"(node_filesystem_size_bytes{{{{{FS}}}}}))"
    ),
    "node_network_receive_bytes:sum_rate5m": (
        'sum by ({by}) (rate(node_network_receive_bytes_total{{device!="lo"}}[5m]))'
    ),
    "node_network_transmit_bytes:sum_rate5m": (
        'sum by ({by}) (rate(node_network_transmit_bytes_total{{device!="lo"}}[5m]))'
    ),
    "targets_up:sum": f"sum by ({{by}}) (up{{{{{HOSTS}}}}})",
    "targets_down:sum": f"sum by ({{by}}) (1 - up{{{{{HOSTS}}}}})",
}

GROUPING = {"deployment": "deployment, provider", "provider": "provider"}


def aggregate_rules(levels: tuple[str, ...]) -> list[dict[str, Any]]:
    """The aggregates at each level, in a stable order."""
    rules: list[dict[str, Any]] = []
    for level in levels:
        for name, template in AGGREGATES.items():
            rules.append({"record": f"{level}:{name}", "expr": template.format(by=GROUPING[level])})
    return rules


def user_rules(recording: tuple[Recording, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in recording:
        rule: dict[str, Any] = {"record": r.record, "expr": r.expr.strip()}
        if r.labels:
            rule["labels"] = dict(sorted(r.labels.items()))
        out.append(rule)
    return out


def aggregate_tests(levels: tuple[str, ...]) -> list[dict[str, Any]]:
    """Two hosts of one deployment: the CPU, memory and target sums add up."""
    if not levels:
        return []
    series = []
    for host, idle, mem_used, up in (("host-a", 30, 1000, 1), ("host-b", 54, 3000, 0)):
        lab = f'instance="{host}", job="ssh_15s", deployment="prod", provider="aws"'
        series += [
            {"series": f'node_cpu_seconds_total{{{lab}, cpu="0", mode="idle"}}',
             "values": f"0+{idle}x20"},
            {"series": f'node_cpu_seconds_total{{{lab}, cpu="0", mode="user"}}',
             "values": f"0+{60 - idle}x20"},
            {"series": f"node_memory_MemTotal_bytes{{{lab}}}", "values": "4096+0x20"},
            {"series": f"node_memory_MemAvailable_bytes{{{lab}}}",
             "values": f"{4096 - mem_used}+0x20"},
            {"series": f"up{{{lab}}}", "values": f"{up}+0x20"},
        ]  # fmt: skip
    exprs: list[dict[str, Any]] = []
    for level in levels:
        labels = (
            {"deployment": "prod", "provider": "aws"}
            if level == "deployment"
            else {"provider": "aws"}
        )
        for name, value in (
            ("node_cpu_used_cores:sum_rate5m", "0.6"),  # (30 + 6) / 60 busy seconds per second
            ("node_cpu_cores:count", "2"),
            ("node_memory_used_bytes:sum", "4000"),
            ("targets_up:sum", "1"),
            ("targets_down:sum", "1"),
        ):
            sel = ", ".join(f'{k}="{v}"' for k, v in labels.items())
            exprs.append(
                {
                    "expr": f"{level}:{name}",
                    "eval_time": "10m",
                    "exp_samples": [{"labels": f"{level}:{name}{{{sel}}}", "value": float(value)}],
                }
            )
    return [
        {
            "name": "fleet aggregates: two hosts of one deployment",
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": exprs,
        }
    ]
