"""``fleetwatch notifications``: what Alertmanager delivered to the local alert inbox.

The inbox URL: ``--inbox URL`` (or ``$FLEETWATCH_INBOX_URL``), else the one the running
``fleetwatch up`` recorded, else the ``stack.inbox`` of ``--inventory FILE``, else
http://127.0.0.1:9719.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fleetwatch.cli.options import inventory_file
from fleetwatch.cli.stack_cmds import STATE_DIR

ENV_URL = "FLEETWATCH_INBOX_URL"
COLUMNS = ("RECEIVED", "RECEIVER", "STATUS", "ALERTNAME", "SEVERITY", "INSTANCE", "SUMMARY")


@click.command("notifications")
@click.option("--inbox", "url", metavar="URL", envvar=ENV_URL,
              help=f"Inbox URL [default: the running stack's; env {ENV_URL}].")  # fmt: skip
@inventory_file(help="Take the inbox address from this inventory's stack: section.")
@click.option("--state-dir", default=STATE_DIR, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="The newest N notifications.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the notifications as JSON.")
def notifications(url: str | None, inventory_path: str | None, state_dir: str, limit: int,
                  timeout: float, as_json: bool) -> None:  # fmt: skip
    """Notifications the local inbox received (one row per alert), newest last."""
    from fleetwatch import stack
    from fleetwatch.errors import FleetwatchError

    if not url:
        url = stack.StackState.load(Path(state_dir)).url("inbox")
    if not url:
        from fleetwatch.inventory import default_inventory, load_inventory

        inv = load_inventory(inventory_path, check_files=False) if inventory_path else None
        url = f"http://{(inv or default_inventory()).stack.inbox}"
    try:
        items: Any = stack.get_json(f"{url.rstrip('/')}/api/notifications?limit={limit}", timeout)
    except (OSError, ValueError) as exc:
        raise FleetwatchError(
            f"the alert inbox at {url} does not answer ({exc}): is `fleetwatch up` running?"
        ) from None
    if as_json:
        click.echo(json.dumps(items, indent=2, sort_keys=True))
        return
    rows = [
        (
            str(n.get("received_at", "")),
            str(n.get("receiver", "")),
            str(a.get("status", n.get("status", ""))),
            str(a.get("labels", {}).get("alertname", "")),
            str(a.get("labels", {}).get("severity", "")),
            str(a.get("labels", {}).get("instance", "")),
            str(a.get("annotations", {}).get("summary", "")),
        )
        for n in items
        for a in n.get("alerts", [])
    ]
    if not rows:
        click.echo(f"no notifications at {url} yet")
        return
    widths = [max(len(r[i]) for r in (COLUMNS, *rows)) for i in range(len(COLUMNS) - 1)]
    for row in (COLUMNS, *rows):
        click.echo("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]))
