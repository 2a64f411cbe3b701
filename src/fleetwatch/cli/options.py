"""Options several commands share, spelled once."""

from __future__ import annotations

import click

inventory_option = click.option(
    "--inventory",
    "inventory_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Inventory (fleet.yaml). Default: this machine (the embedded inventory).",
)
output_option = click.option(
    "-o", "--output", default="build", show_default=True, help="Build folder."
)
content_option = click.option(
    "--content",
    default=".",
    show_default=True,
    help="Folder holding dashboards/, rules/, provisioning/ and alerting.yaml.",
)
