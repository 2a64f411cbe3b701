"""``fleetwatch build``."""

from __future__ import annotations

from pathlib import Path

import click

from fleetwatch.cli.options import content_option, inventory_option, output_option


@click.command()
@inventory_option
@output_option
@content_option
@click.option(
    "--grafana-dashboards-path",
    default=None,
    help="Where Grafana will see the built dashboards (default: the docker-compose path).",
)
def build(
    inventory_path: str | None, output: str, content: str, grafana_dashboards_path: str | None
) -> None:
    """Compile the inventory, dashboards and provisioning into OUTPUT (deterministic)."""
    from fleetwatch.build import build as run_build
    from fleetwatch.inventory import default_inventory, load_inventory
    from fleetwatch.provisioning.grafana import DEFAULT_DASHBOARDS_PATH

    # key files live on the exporter's machine, not in CI: build does not require them
    inv = (
        load_inventory(inventory_path, check_files=False) if inventory_path else default_inventory()
    )
    result = run_build(
        inv,
        Path(content),
        Path(output),
        grafana_dashboards_path=grafana_dashboards_path or DEFAULT_DASHBOARDS_PATH,
    )
    click.echo(
        f"built {output}/ from {inv.path}: {len(inv.hosts())} hosts, "
        f"{result.count('prometheus/targets')} target files, "
        f"{result.count('grafana/dashboards')} dashboards"
    )
