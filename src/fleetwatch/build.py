"""``fleetwatch build``: inventory + content (dashboards/, provisioning/) → build/.

The output is deterministic (same input → byte-identical files); its layout is
``fleetwatch.layout``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from fleetwatch import layout
from fleetwatch.errors import ConfigError
from fleetwatch.inventory import Inventory
from fleetwatch.provisioning.grafana import DEFAULT_DASHBOARDS_PATH, write_grafana_provisioning
from fleetwatch.provisioning.prometheus import write_prometheus


@dataclass
class BuildResult:
    out: Path
    files: list[Path] = field(default_factory=list)

    def count(self, subdir: str) -> int:
        prefix = self.out / subdir
        return sum(1 for f in self.files if f.is_relative_to(prefix))


def _rules(
    rules_src: Path, inventory: Inventory, staging: Path, dashboards_src: Path
) -> list[Path]:
    """Rule files and their promtool tests; one dashboard per SLO (folder ``slo``)."""
    if not rules_src.is_dir():
        return []
    from fleetwatch.dashboards.pipeline import build_dashboards
    from fleetwatch.rules import build_rules, slo_dashboards

    files = build_rules(
        rules_src, inventory, staging / layout.PROMETHEUS, dashboards_src=dashboards_src
    )
    generated = slo_dashboards(rules_src)
    if generated:
        # generated dashboard sources go through the same pipeline as hand-written ones
        src = staging / "_slo_sources"
        (src / "slo").mkdir(parents=True)
        for slug, text in sorted(generated.items()):
            (src / "slo" / f"{slug}.yaml").write_text(text, encoding="utf-8")
        files += build_dashboards(src, layout.dashboards_dir(staging))
        shutil.rmtree(src)
    return files


def _alertmanager(
    alerting_yaml: Path, out: Path, inventory: Inventory, rules_src: Path
) -> list[Path]:
    """alertmanager.yml, and the policy it came from (validate tests its routes).  The alerts
    that mute a down dependency's dependents are the rules' own ``down: true`` ones; with
    ``scale:``, ExporterDown mutes them for its own targets too."""
    if not alerting_yaml.is_file():
        return []
    from fleetwatch.provisioning.alertmanager import build_alertmanager
    from fleetwatch.rules import down_alerts

    down = down_alerts(rules_src, inventory.stack.grafana_url)
    mutes: list[tuple[str, str]] = []
    if inventory.scale is not None:  # without scale: the file stays as it was
        from fleetwatch.provisioning.scale.alerts import EXPORTER_MUTES

        mutes = list(EXPORTER_MUTES)
    files = build_alertmanager(
        alerting_yaml, out, inventory.stack.inbox, inventory.dependencies(), down, mutes
    )
    shutil.copyfile(alerting_yaml, out / layout.ROUTING_POLICY)
    return [*files, out / layout.ROUTING_POLICY]


def build(
    inventory: Inventory,
    content: Path,
    out: Path,
    *,
    grafana_dashboards_path: str = DEFAULT_DASHBOARDS_PATH,
) -> BuildResult:
    """Compile everything into ``out``.  Raises ConfigError(s) naming the bad source."""
    from fleetwatch.dashboards.pipeline import build_dashboards

    dashboards_src = content / "dashboards"
    if not dashboards_src.is_dir():
        raise ConfigError(str(dashboards_src), "no dashboards folder (use --content DIR)")
    if out.resolve() in (content.resolve(), dashboards_src.resolve()):
        raise ConfigError(str(out), "the output folder must not be a content folder")
    staging = out.with_name(out.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        files = write_prometheus(inventory, staging / layout.PROMETHEUS)
        files += write_grafana_provisioning(
            inventory,
            layout.provisioning_dir(staging),
            content / "provisioning",
            grafana_dashboards_path,
        )
        files += build_dashboards(dashboards_src, layout.dashboards_dir(staging))
        files += _rules(content / "rules", inventory, staging, dashboards_src)
        files += _alertmanager(
            content / "alerting.yaml", staging / layout.ALERTMANAGER, inventory, content / "rules"
        )
        if inventory.scale is not None:
            from fleetwatch.provisioning.scale import write_scale
            from fleetwatch.rules.loader import CONFIG_FILE, load_config

            config = load_config(content / "rules" / CONFIG_FILE, inventory.stack.grafana_url)
            files += write_scale(inventory, staging / layout.SCALE, config.runbook_url_pattern)
        # swap in the new tree only once everything built: a failed build keeps the old one
        out.mkdir(parents=True, exist_ok=True)
        for sub in layout.GENERATED:
            if (out / sub).exists():
                shutil.rmtree(out / sub)
            if (staging / sub).exists():
                (staging / sub).rename(out / sub)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    moved = [out / f.relative_to(staging) for f in files]
    return BuildResult(out, sorted(moved))
