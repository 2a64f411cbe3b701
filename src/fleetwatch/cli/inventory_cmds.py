"""``fleetwatch inventory check``."""

from __future__ import annotations

import click


@click.group()
def inventory() -> None:
    """Inventory (fleet.yaml) commands."""


@inventory.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Validate FILE: schema and semantic checks, one line per finding (file:line: message)."""
    from fleetwatch.inventory import load_inventory

    inv = load_inventory(file)
    hosts = inv.hosts()
    for host in hosts:
        if "ssh" not in host.probed_modules:
            continue  # local, or its own node_exporter: no SSH settings in use
        for warning in host.ssh.warnings():
            click.echo(f"{file}: warning: host {host.name}: {warning}", err=True)
    click.echo(f"{file}: OK ({len(inv.deployments)} deployments, {len(hosts)} hosts)")
