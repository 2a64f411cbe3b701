"""Options several commands share, spelled once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from fleetwatch.layout import DEFAULT_BUILD_DIR

F = TypeVar("F", bound=Callable[..., Any])

INVENTORY_HELP = "Inventory (fleet.yaml). Default: this machine (the embedded inventory)."


def inventory_file(*aliases: str, help: str = INVENTORY_HELP) -> Callable[[F], F]:
    """``--inventory FILE`` (value ``inventory_path``), the one name every command uses;
    ``aliases``: the names a command had before, still accepted."""
    return click.option(
        "--inventory", *aliases, "inventory_path", type=click.Path(dir_okay=False),
        default=None, metavar="FILE", help=help,
    )  # fmt: skip


inventory_option = inventory_file()
output_option = click.option(
    "-o", "--output", default=DEFAULT_BUILD_DIR, show_default=True, help="Build folder."
)
content_option = click.option(
    "--content",
    default=".",
    show_default=True,
    help="Folder holding dashboards/, rules/, provisioning/ and alerting.yaml.",
)
