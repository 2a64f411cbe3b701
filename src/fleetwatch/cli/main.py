"""Entry point: a click group whose commands import their heavy parts only when run."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fleetwatch import LOG_FORMAT, __version__
from fleetwatch.errors import FleetwatchError

F = TypeVar("F", bound=Callable[..., Any])


class FleetwatchGroup(click.Group):
    """Turns a FleetwatchError into one clear line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FleetwatchError as exc:
            click.echo(f"fleetwatch: error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=FleetwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fleetwatch")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Agentless fleet monitoring: node_exporter-compatible exporters and monitoring as code."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format=LOG_FORMAT)


def _register() -> None:
    from fleetwatch.cli import (
        alert_cmds,
        build_cmds,
        catalog_cmds,
        exporter_cmds,
        inbox_cmds,
        inventory_cmds,
        ssh_cmds,
        stack_cmds,
        validate_cmds,
    )

    cli.add_command(exporter_cmds.exporter)
    cli.add_command(exporter_cmds.probe)
    cli.add_command(exporter_cmds.modules)
    cli.add_command(inventory_cmds.inventory)
    cli.add_command(build_cmds.build)
    cli.add_command(stack_cmds.up)
    cli.add_command(stack_cmds.down)
    cli.add_command(validate_cmds.validate)
    cli.add_command(alert_cmds.alerts)
    cli.add_command(alert_cmds.ack)
    cli.add_command(alert_cmds.unack)
    cli.add_command(inbox_cmds.notifications)
    cli.add_command(ssh_cmds.ssh)
    cli.add_command(catalog_cmds.catalog)


_register()


def main() -> None:
    cli(prog_name="fleetwatch")
