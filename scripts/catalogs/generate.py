"""Write src/fleetwatch/catalog/data/<name>.yaml from the real programs' pages and the
curated lists of public sources.

    sh scripts/catalogs/scrape.sh          # starts the Debian binaries, saves raw/*.prom
    .venv/bin/python scripts/catalogs/generate.py

raw/*.prom: /metrics pages of the real programs (scrape.sh; not committed: they hold this
machine's devices and values); extra/*.txt: families the machine cannot show (hardware,
systemd, later releases) and programs that do not run here, one ``NAME TYPE [LABELS]`` a line,
each file naming its public source in its header; extra/*_legacy.txt: ``OLD TYPE NEW`` renames.
Namespace claims (an unknown name under a claimed prefix is an error for validate) are decided
in CLAIMS below, each with its reason, written into the YAML header.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fleetwatch.catalog.exposition import parse_families  # noqa: E402
from fleetwatch.catalog.model import Metric  # noqa: E402
from fleetwatch.config.writers import dump_yaml  # noqa: E402

OUT = ROOT / "src" / "fleetwatch" / "catalog" / "data"
CLIENT = ("go_", "process_", "promhttp_")


def versions() -> dict[str, str]:
    out = {}
    for line in (HERE / "raw" / "VERSIONS").read_text().splitlines():
        binary, _, text = line.partition(": ")
        out[binary] = text.strip()
    return out


def raw(name: str) -> list[Metric]:
    text = (HERE / "raw" / f"{name}.prom").read_text(encoding="utf-8")
    return list(parse_families(text, f"raw/{name}.prom"))


def extra(name: str, prefix: str = "") -> list[Metric]:
    out = []
    for line in (HERE / "extra" / f"{name}.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        labels = frozenset(parts[2].split(",")) if len(parts) > 2 else None
        out.append(Metric(prefix + parts[0], parts[1], labels=labels))  # type: ignore[arg-type]
    return out


def meminfo_legacy(current: list[Metric]) -> list[Metric]:
    """Before 0.16 every kB field of /proc/meminfo was node_memory_<Field> (no _bytes)."""
    return [
        Metric(
            m.name.removesuffix("_bytes"),
            "gauge",
            deprecated=f"renamed to {m.name} in node_exporter 0.16",
        )
        for m in current
        if m.name.startswith("node_memory_")
        and m.name.endswith("_bytes")
        and not m.name.startswith("node_memory_numa_")
        and m.name[12].isupper()
    ]


def legacy(name: str) -> list[Metric]:
    out = []
    for line in (HERE / "extra" / f"{name}.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        old, kind, new = line.split(None, 2)
        note = f"renamed to {new}" + (
            " in node_exporter 0.16" if old.startswith("node_") else " in kube-state-metrics 2.0"
        )
        out.append(Metric(old, kind, deprecated=note))  # type: ignore[arg-type]
    return out


# prefix -> why it is claimed; catalogs not listed claim nothing (see NO_CLAIM)
CLAIMS: dict[str, dict[str, str]] = {
    "node_exporter": {
        "node_cpu_": "cpu / cpufreq / schedstat-free set: the same names 1.0-1.8 (+ 1.6-1.8's "
        "isolated, online, flag/bug/vulnerabilities info)",
        "node_memory_": "every /proc/meminfo field of Linux 3.x-6.x listed by name (BSD / Darwin "
        "names too), the meminfo_numa collector's node_memory_numa_* as a glob",
        "node_filesystem_": "fixed per-mount set (mount_info, purgeable_bytes added 1.7-1.8)",
        "node_disk_": "diskstats + udev info + ata: fixed set on Linux 1.0-1.8",
        "node_timex_": "one adjtimex(2) struct: fixed set",
        "node_filefd_": "allocated / maximum only",
        "node_nf_conntrack_": "entries, entries_limit and the stat_* of 1.3+",
        "node_scrape_collector_": "success / duration only",
        "node_textfile_": (
            "mtime_seconds / scrape_error only (textfile metrics keep their own names)"
        ),
        "node_uname_": "info only",
    },
    "client_libraries": {
        "promhttp_": "client_golang's handler metrics: three names in every version",
    },
}
NO_CLAIM: dict[str, str] = {
    "node_exporter": "node_ itself is open: textfile collector scripts publish node_* names "
    "(node_apt_*, node_smartmon_*); node_vmstat_ / node_netstat_ are named from "
    "kernel data (globs), node_network_ differs on BSD and between releases",
    "client_libraries": "go_ grows with every Go release (runtime/metrics: go_sched_*, "
    "go_cpu_classes_*); process_ is used by other languages' clients with their own names",
    "prometheus": "prometheus_ changes in every release (2.x to 3.x): not claimed",
    "alertmanager": "alertmanager_ changes between releases: not claimed",
    "blackbox_exporter": "probe_ differs by prober and release (grpc, newer tls / http "
    "families): not claimed",
    "postgres_exporter": "pg_ is open: custom queries (queries.yaml) publish pg_<name>_* and "
    "even pg_stat_* (its own example pg_stat_user_tables); collectors add pg_stat_database_* "
    "columns by release: not claimed",
    "redis_exporter": "redis_ holds every INFO field of the server's version: not claimed",
    "mysqld_exporter": "mysql_global_status_ / _variables_ are named from the server: globs, "
    "nothing claimed",
    "cadvisor": "written from cAdvisor's docs, not from a running binary; container_ is used "
    "by other exporters too: not claimed",
    "kube_state_metrics": "written from kube-state-metrics' docs, not checked against a "
    "running binary (none runs here); kube_ is also custom-resource-state territory: not claimed",
    "cometbft": "written from CometBFT's docs, not from a running node: not claimed",
}


def catalog(name: str, source: str, metrics: list[Metric]) -> None:
    by_name: dict[str, Metric] = {}
    for m in metrics:
        old = by_name.get(m.name)
        if old is not None and not old.deprecated:
            if old.labels is not None and m.labels:
                by_name[m.name] = Metric(m.name, old.type, old.help, old.labels | m.labels)
            continue
        by_name[m.name] = m
    claims = CLAIMS.get(name, {})
    header = [
        f"# {name}: generated by scripts/catalogs/generate.py ({source}).",
        "# Namespace claims (a name under a claimed prefix that is not listed is an error):",
    ]
    header += [f"#   {p}: {why}" for p, why in claims.items()] or ["#   none"]
    if name in NO_CLAIM:
        header.append(f"# Not claimed: {NO_CLAIM[name]}.")
    items = []
    for m in sorted(by_name.values(), key=lambda x: x.name):
        item: dict[str, object] = {"name": m.name, "type": m.type}
        if m.help:
            item["help"] = m.help
        if m.labels:
            item["labels"] = sorted(m.labels)
        if m.deprecated:
            item["deprecated"] = m.deprecated
        items.append(item)
    body = dump_yaml({"name": name, "source": source, "namespaces": list(claims), "metrics": items})
    (OUT / f"{name}.yaml").write_text("\n".join(header) + "\n" + body, encoding="utf-8")
    print(f"{name}: {len(items)} metrics, claims {list(claims) or 'none'}")


def main() -> None:
    v = versions()
    pages = [
        *("node_exporter", "prometheus", "alertmanager", "blackbox_exporter"),
        *("blackbox_probe", "redis_exporter", "postgres_exporter", "mysqld_exporter"),
    ]
    scraped = {p: raw(p) for p in pages}

    def own(page: str) -> list[Metric]:
        return [m for m in scraped[page] if not m.name.startswith(CLIENT)]

    catalog(
        "node_exporter",
        f"{v['prometheus-node-exporter']} /metrics with 30 collectors on Debian 12; "
        "plus extra/node_exporter.txt, written by hand from node_exporter's collector sources "
        "(hardware, systemd, 1.6-1.8 additions; not checked against those binaries); pre-0.16 "
        "names from its 0.16 upgrade guide",
        [
            *own("node_exporter"),
            *extra("node_exporter"),
            *legacy("node_exporter_legacy"),
            *meminfo_legacy(own("node_exporter") + extra("node_exporter")),
        ],
    )
    catalog(
        "client_libraries",
        "go_ / process_ / promhttp_ families of every scraped Go binary (client_golang as "
        "built into the Debian 12 packages)",
        [m for p in pages for m in scraped[p] if m.name.startswith(CLIENT)],
    )
    catalog(
        "prometheus", f"{v['prometheus']} /metrics (scraping, rules, alerting)", own("prometheus")
    )
    catalog("alertmanager", f"{v['prometheus-alertmanager']} /metrics", own("alertmanager"))
    catalog(
        "blackbox_exporter",
        f"{v['prometheus-blackbox-exporter']} /metrics and /probe (http, tcp, icmp, dns)",
        own("blackbox_exporter") + own("blackbox_probe"),
    )
    catalog(
        "redis_exporter",
        f"{v['prometheus-redis-exporter'].split('msg=')[-1].split()[3]} redis_exporter "
        "/metrics against redis-server 7.0",
        own("redis_exporter"),
    )
    catalog(
        "postgres_exporter",
        f"{v['prometheus-postgres-exporter']} /metrics against PostgreSQL 15 (default "
        "queries); pg_settings_* as a glob",
        [*own("postgres_exporter"), Metric("pg_settings_*", "gauge", labels=frozenset(["server"]))],
    )
    catalog(
        "mysqld_exporter",
        f"{v['prometheus-mysqld-exporter']} /metrics (no MySQL server) and "
        "prometheus/mysqld_exporter collector sources",
        own("mysqld_exporter") + extra("mysqld_exporter"),
    )
    catalog(
        "cadvisor",
        "written by hand after google/cadvisor docs/storage/prometheus.md (v0.47-v0.49); "
        "no binary here",
        extra("cadvisor"),
    )
    catalog(
        "kube_state_metrics",
        "written by hand after kubernetes/kube-state-metrics docs/metrics (v2.0-v2.13), "
        "no binary here; v1 names marked deprecated",
        extra("kube_state_metrics") + legacy("kube_state_metrics_legacy"),
    )
    catalog(
        "cometbft",
        "written by hand after cometbft/cometbft docs/explanation/core/metrics.md and "
        "*/metrics.go (v0.37-v1.0), no node here; "
        "the same set under tendermint_ (Tendermint Core 0.34)",
        extra("cometbft", "cometbft_") + extra("cometbft", "tendermint_"),
    )


if __name__ == "__main__":
    main()
