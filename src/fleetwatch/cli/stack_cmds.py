"""``fleetwatch up`` and ``fleetwatch down``."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fleetwatch import layout
from fleetwatch.cli.options import content_option, inventory_option, output_option

if TYPE_CHECKING:
    from fleetwatch.inventory import Inventory

STATE_DIR = ".fleetwatch"


@click.command()
@inventory_option
@output_option
@content_option
@click.option(
    "--state-dir",
    default=STATE_DIR,
    show_default=True,
    help="Where PIDs, logs and Prometheus' data go.",
)
@click.option("--detach", is_flag=True, help="Return once started; stop with `fleetwatch down`.")
@click.option("--no-validate", is_flag=True, help="Skip `fleetwatch validate` of the build.")
@click.option(
    "--web.config.file", "web_config_file", type=click.Path(dir_okay=False), default=None,
    help="The exporter's web config (TLS, basic auth), as for `fleetwatch exporter`; "
    "stack.exporter_scrape says how Prometheus then scrapes it.",
)  # fmt: skip
def up(inventory_path: str | None, output: str, content: str, state_dir: str, detach: bool,
       no_validate: bool, web_config_file: str | None) -> None:  # fmt: skip
    """Build, validate, start the exporter, the alert inbox, Alertmanager and Prometheus; print
    a status table of the targets and where alerts go."""
    from fleetwatch import stack
    from fleetwatch.build import build
    from fleetwatch.errors import ToolError
    from fleetwatch.inventory import default_inventory, load_inventory

    inv = load_inventory(inventory_path) if inventory_path else default_inventory()
    out, state = Path(output), Path(state_dir)
    if stack.StackState.load(state).services:
        stack.stop(state)  # a previous `up` that was not taken down
    result = build(inv, Path(content), out)
    click.echo(f"built {out}/: {len(result.files)} files from {inv.path}")
    if not no_validate:
        _validate(out)
    if inv.scale is not None:
        assert inventory_path is not None  # the embedded inventory has no scale:
        _up_scaled(inventory_path, inv, out, state, web_config_file)
        _hold(state, detach)
        return
    current = stack.StackState()
    try:
        current.services.append(stack.start_exporter(inventory_path, inv, state, web_config_file))
        current.save(state)
        starts: list[tuple[Callable[[], stack.Service], str]] = [
            (lambda: stack.start_inbox(inv, state), "no local alert inbox."),
            (lambda: stack.start_alertmanager(inv, out, state), "no alert routing."),
            (lambda: stack.start_prometheus(inv, out, state), "running without Prometheus."),
        ]
        for start, without in starts:
            try:
                current.services.append(start())
                current.save(state)
            except ToolError as exc:
                click.echo(f"fleetwatch: {exc}\n{without}", err=True)
    except BaseException:
        stack.stop(state)
        raise
    for svc in current.services:
        click.echo(f"  {svc.name:<13} {svc.url}   (log: {svc.log})")
    prom = current.url("prometheus")
    if prom:
        click.echo("waiting for the first scrapes...")
        # Prometheus spreads first scrapes over a target's interval: wait that long, and more
        # every scraped target: hosts (SSH or their own node_exporter), services and apps
        intervals = [h.scrape_interval_seconds for h in inv.hosts()]
        intervals += [s.scrape_interval_seconds for s in inv.services()]
        intervals += [a.scrape_interval_seconds for a in inv.apps()]
        longest = max(intervals, default=15)
        rows = stack.wait_for_first_scrapes(prom, timeout=longest + 15)
        click.echo(stack.status_table(rows))
        click.echo(f"  Prometheus targets: {prom}/targets   graph: {prom}/graph")
    if current.url("alertmanager"):
        _alert_delivery(layout.alertmanager_config(out), current.url("inbox"))
    click.echo(
        f"  Grafana: docker compose -f deploy/docker-compose.yml up (provisioned from {out}/)"
    )
    _hold(state, detach)


def _hold(state: Path, detach: bool) -> None:
    """Return at once with ``detach``; else run until Ctrl-C / SIGTERM, then stop it all."""
    from fleetwatch import stack

    if detach:
        click.echo("running in the background; `fleetwatch down` stops it.")
        return
    click.echo("Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the stack as Ctrl-C does
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        names = stack.stop(state)
        click.echo(f"stopped: {', '.join(names)}")


def _up_scaled(inventory_path: str, inv: Inventory, out: Path, state: Path,
               web_config_file: str | None) -> None:  # fmt: skip
    """The scaled-out topology of ``scale:`` (see fleetwatch.stack_scale); all or nothing."""
    from fleetwatch import stack, stack_scale
    from fleetwatch.inventory.assign import assignment

    scale = inv.scale
    assert scale is not None
    current = stack.StackState()

    def record(svc: stack.Service) -> None:
        current.services.append(svc)
        current.save(state)

    try:
        stack_scale.start(inventory_path, inv, out, state, record, web_config_file)
    except BaseException:
        stack.stop(state)
        raise
    for svc in current.services:
        click.echo(f"  {svc.name:<18} {svc.url}   (log: {svc.log})")
    click.echo("waiting for the first samples in the store...")
    longest = max((t.scrape_interval_seconds for t in inv.targets().values()), default=15)
    rows = stack_scale.wait_for_store(inv, timeout=longest * 3 + 30, settle=longest * 2)
    click.echo(stack_scale.status_table(rows, assignment(inv)))
    click.echo(f"query  {scale.storage.query_url}")
    if scale.alertmanager is not None:
        config = layout.alertmanager_config(out)
        _alert_delivery(config, current.url("inbox"))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _alert_delivery(config: Path, inbox: str | None) -> None:
    """Where alerts go: the local inbox (if a route reaches it), and, per receiver, the key
    files that are missing here (Alertmanager would fail every send to it, silently)."""
    from fleetwatch.stack import inbox_routed
    from fleetwatch.validate.alertmanager import missing_secret_files

    by_receiver: dict[str, list[str]] = {}
    for p in missing_secret_files(config):
        what = f"{p.integration} {p.key} {p.path} {p.problem}"
        by_receiver.setdefault(p.receiver, []).append(what)
    for receiver, problems in by_receiver.items():
        click.echo(
            f"fleetwatch: warning: receiver {receiver!r} cannot notify: {'; '.join(problems)}",
            err=True,
        )
    if inbox and inbox_routed(config, inbox):
        click.echo(f"  alerts: `fleetwatch alerts` (Alertmanager); delivered to the local inbox "
                   f"{inbox}: `fleetwatch notifications`")  # fmt: skip
    else:
        click.echo("  alerts: `fleetwatch alerts` (Alertmanager); no route reaches the local "
                   "inbox (alerting.yaml: copy_to: [local-inbox])")  # fmt: skip


def _validate(out: Path) -> None:
    from fleetwatch.errors import FleetwatchError, ToolUnavailable
    from fleetwatch.validate.engine import validate

    try:
        findings = validate([out], exceptions=None, promtool=None)
    except ToolUnavailable as exc:
        raise ToolUnavailable(f"{exc} (or start without validation: --no-validate)") from exc
    errors = [f for f in findings if f.severity == "error"]
    later = [f for f in findings if f.rule == "receiver-file"]  # said per receiver below
    for f in findings:
        if f.rule != "receiver-file":
            click.echo(f"  {f.file}: {f.severity} {f.rule} {f.location}: {f.message}", err=True)
    if errors:
        raise FleetwatchError(f"validation of {out}/ found {len(errors)} errors (see above)")
    shown = f" ({len(later)} about receivers' key files, below)" if later else ""
    click.echo(f"validated {out}/: {len(findings)} findings{shown}, none an error")


@click.command()
@click.option("--state-dir", default=STATE_DIR, show_default=True)
def down(state_dir: str) -> None:
    """Stop what `fleetwatch up` started."""
    from fleetwatch import stack

    names = stack.stop(Path(state_dir))
    click.echo(f"stopped: {', '.join(names)}" if names else "nothing was running")
