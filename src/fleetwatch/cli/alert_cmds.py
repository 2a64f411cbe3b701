"""``fleetwatch alerts``, ``ack`` and ``unack``: what fires, and silencing it from the shell.

The Alertmanager URL: ``--alertmanager URL`` (or ``$FLEETWATCH_ALERTMANAGER_URL``), else the
``stack.alertmanager_url`` of ``--inventory FILE``, else http://127.0.0.1:9093.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from fleetwatch.alerting_client import Alert, AlertmanagerClient, Silence

F = TypeVar("F", bound=Callable[..., Any])

ENV_URL = "FLEETWATCH_ALERTMANAGER_URL"
STATE_ORDER = {"firing": 0, "unprocessed": 1, "inhibited": 2, "silenced": 3}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
COLUMNS = ("ALERTNAME", "SEVERITY", "INSTANCE", "STATE", "SINCE", "SUMMARY")


def _connection_options(func: F) -> F:
    options = [
        click.option(
            "--alertmanager", "url", metavar="URL", envvar=ENV_URL,
            help=f"Alertmanager URL, or the peers of a cluster comma-separated (tried in turn) "
            f"[default: the inventory's, else http://127.0.0.1:9093; env {ENV_URL}].",
        ),
        click.option(
            "--inventory", "inventory_path", type=click.Path(dir_okay=False), default=None,
            help="Take the Alertmanager URL from this inventory's stack: section.",
        ),
        click.option(
            "--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
            help="Seconds to wait for each Alertmanager request.",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _client(url: str | None, inventory_path: str | None, timeout: float) -> AlertmanagerClient:
    from fleetwatch.alerting_client import DEFAULT_URL, AlertmanagerClient

    urls = [u.strip() for u in url.split(",") if u.strip()] if url else []
    if not urls and inventory_path:
        from fleetwatch.inventory import load_inventory

        inventory = load_inventory(inventory_path, check_files=False)
        cluster = inventory.scale.alertmanager if inventory.scale else None
        if cluster is not None:  # any peer will do: silences replicate
            urls = [f"http://{peer}" for peer in cluster.peers]
        else:
            urls = [inventory.stack.alertmanager_url]
    urls = urls or [DEFAULT_URL]
    return AlertmanagerClient(urls[0], timeout=timeout, peers=urls[1:])


# --------------------------------------------------------------------------- alerts


@click.command("alerts")
@click.argument("matchers", nargs=-1)
@_connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def alerts(
    matchers: tuple[str, ...],
    url: str | None,
    inventory_path: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Firing, silenced and inhibited alerts (only those matching MATCHERS, if given).

    MATCHERS filter like Alertmanager's: severity=critical instance=~"web-.*".
    """
    from fleetwatch.alerting_client import parse_matcher

    filters = [parse_matcher(m) for m in matchers]
    client = _client(url, inventory_path, timeout)
    found = sorted(client.alerts(filters), key=_sort_key)
    if as_json:
        click.echo(json.dumps([_alert_json(a) for a in found], indent=2, sort_keys=True))
        return
    if not found:
        click.echo(f"no alerts at {client.url}")
        return
    now = datetime.now(UTC)
    rows = [
        (
            a.labels.get("alertname", ""),
            a.labels.get("severity", ""),
            a.labels.get("instance", ""),
            a.status,
            _age(a.starts_at, now),
            a.annotations.get("summary", ""),
        )
        for a in found
    ]
    click.echo(_table(COLUMNS, rows))


def _sort_key(a: Alert) -> tuple[int, int, str, str, str]:
    return (
        STATE_ORDER.get(a.status, 9),
        SEVERITY_ORDER.get(a.labels.get("severity", ""), 9),
        a.starts_at.isoformat() if a.starts_at else "",
        a.labels.get("alertname", ""),
        a.labels.get("instance", ""),
    )


def _alert_json(a: Alert) -> dict[str, Any]:
    return {
        "alertname": a.labels.get("alertname", ""),
        "severity": a.labels.get("severity", ""),
        "instance": a.labels.get("instance", ""),
        "state": a.status,
        "starts_at": a.starts_at.isoformat() if a.starts_at else None,
        "summary": a.annotations.get("summary", ""),
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "silenced_by": list(a.silenced_by),
        "inhibited_by": list(a.inhibited_by),
        "receivers": list(a.receivers),
        "fingerprint": a.fingerprint,
    }


def _age(start: datetime | None, now: datetime) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``: how long ago ``start`` was."""
    if start is None:
        return "-"
    seconds = max(0, int((now - start).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h{minutes % 60:02d}m"
    return f"{days}d{hours % 24:02d}h"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for row in (header, *rows):
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------- ack / unack


@click.command("ack")
@click.argument("matchers", nargs=-1, required=True)
@click.option(
    "--for", "duration", default="2h", show_default=True, metavar="DURATION",
    help="How long the silence lasts (30m, 2h, 1d12h, 1w).",
)  # fmt: skip
@click.option("--comment", "-c", required=True, help="Why (shown with the silence).")
@click.option("--author", default=None, help="Who silences [default: your user name].")
@_connection_options
def ack(
    matchers: tuple[str, ...],
    duration: str,
    comment: str,
    author: str | None,
    url: str | None,
    inventory_path: str | None,
    timeout: float,
) -> None:
    """Silence the alerts matching MATCHERS; prints the silence id.

    Example: fleetwatch ack alertname=HostDown instance=~"web-.*" --for 2h -c "reboots".
    """
    from fleetwatch.alerting_client import format_time, parse_duration, parse_matchers
    from fleetwatch.errors import UsageError

    parsed = parse_matchers(matchers)
    span = parse_duration(duration)
    if not comment.strip():
        raise UsageError("--comment must not be empty: say why the alerts are silenced")
    client = _client(url, inventory_path, timeout)
    silence_id = client.create_silence(parsed, span, comment, author or _user())
    matched = client.alerts(parsed)
    ends = format_time(datetime.now(UTC) + span)
    shown = " ".join(str(m) for m in parsed)
    click.echo(f"silenced {shown} until {ends} ({len(matched)} alerts match now)", err=True)
    click.echo(silence_id)


@click.command("unack")
@click.argument("target", nargs=-1, required=True, metavar="SILENCE_ID | MATCHERS...")
@_connection_options
def unack(target: tuple[str, ...], url: str | None, inventory_path: str | None,
          timeout: float) -> None:  # fmt: skip
    """Expire a silence by id, or every active silence with exactly these MATCHERS."""
    from fleetwatch.alerting_client import is_silence_id, parse_matchers
    from fleetwatch.errors import FleetwatchError

    client = _client(url, inventory_path, timeout)
    if len(target) == 1 and is_silence_id(target[0]):
        ids = [target[0].strip()]
    else:
        wanted = frozenset(parse_matchers(target))
        live = [s for s in client.silences() if s.state in ("active", "pending")]
        ids = [s.id for s in live if s.matcher_set == wanted]
        if not ids:
            raise FleetwatchError(
                f"no active silence at {client.url} has exactly the matchers "
                f"{' '.join(sorted(str(m) for m in wanted))}{_hint(live)}"
            )
    for silence_id in ids:
        client.expire_silence(silence_id)
        click.echo(f"expired {silence_id}")


def _hint(live: Sequence[Silence]) -> str:
    if not live:
        return " (there is no active silence)"
    shown = "; ".join(f"{s.id}: {' '.join(str(m) for m in s.matchers)}" for s in live[:5])
    return f" (active: {shown})"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "fleetwatch"
