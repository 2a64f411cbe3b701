"""``fleetwatch exporter``, ``probe`` and ``modules``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from fleetwatch.cli.options import inventory_file
from fleetwatch.errors import UsageError

if TYPE_CHECKING:
    from fleetwatch.inventory import Inventory

DEFAULT_LISTEN = "127.0.0.1:9717"

#: ``--config``: these two commands' name for it before every command said --inventory
inventory_or_config = inventory_file(
    "--config",
    help="Inventory (fleet.yaml; --config is the former name). "
    "Default: this machine as target 'localhost'.",
)


def load(inventory_path: str | None) -> Inventory:
    from fleetwatch.inventory import default_inventory, load_inventory

    return load_inventory(inventory_path) if inventory_path else default_inventory()


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen: expected HOST:PORT, got {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed, else asyncio's own (uvloop: exporter CPU per
    probe 8.9 -> 8.0 ms and 125 -> 136 probes/s in benchmarks/host.py's throughput run)."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


@click.command()
@inventory_or_config
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, help="HOST:PORT to serve on.")
@click.option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="SSH probes running at once (of all hosts; each host has up to 4).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0, max=64),
    default=None,
    help="Processes that parse host answers, so that one exporter uses several cores "
    "(0: in the exporter's own process). Default: 2 on a machine with 2 cores or more, else 0.",
)
@click.option(
    "--web.config.file", "web_config_file", type=click.Path(dir_okay=False), default=None,
    help="TLS and basic auth, in the web config format Prometheus exporters share "
    "(tls_server_config, basic_auth_users with bcrypt hashes).",
)  # fmt: skip
@click.option(
    "--no-target-list", is_flag=True,
    help="Do not list the inventory's targets on / (they name every host watched).",
)  # fmt: skip
@click.option(
    "--replica", default=None, metavar="ID",
    help="Under the inventory's scale: section, this exporter's id: probe only the targets "
    "assigned to it (others answer 503, reason not_assigned).",
)  # fmt: skip
def exporter(
    inventory_path: str | None,
    listen: str,
    max_concurrency: int,
    workers: int | None,
    web_config_file: str | None,
    no_target_list: bool,
    replica: str | None,
) -> None:
    """Serve /metrics and the multi-target /probe?target=NAME&module=M endpoint."""
    from fleetwatch.exporters.server import Exporter, run_forever

    inventory = load(inventory_path)
    host, port = parse_listen(listen)
    web = None
    if web_config_file:
        from fleetwatch.exporters.webconfig import load_web_config

        web = load_web_config(web_config_file)
    elif host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(
            f"fleetwatch: warning: serving {listen} without --web.config.file: anyone who "
            "reaches it can probe every target and read what they answer",
            err=True,
        )
    if workers is None:
        workers = 2 if (os.cpu_count() or 1) >= 2 else 0
    exp = Exporter(inventory, max_concurrency=max_concurrency, workers=workers)
    exp.list_targets = not no_target_list
    if replica is not None:
        exp.serve_replica(replica)
    scheme = web.scheme if web is not None else "http"
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    click.echo(f"fleetwatch exporter on {base} (inventory: {inventory.path})")
    click.echo(f"  own metrics:  {base}/metrics")
    if replica is not None:
        click.echo(f"  replica:      {replica} ({sum(map(exp.assigned, exp.targets))} targets)")
    for name, h in sorted(exp.targets.items()):
        if not exp.assigned(name):
            continue
        for module in h.modules:
            click.echo(f"  probe:        {base}/probe?target={name}&module={module}")
    click.echo("Ctrl-C to stop.")
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run_forever(exp, host, port, web))
    except KeyboardInterrupt:
        click.echo("stopped.")
    except OSError as exc:
        raise UsageError(f"cannot listen on {listen}: {exc.strerror or exc}") from None


@click.command()
@click.argument("target")
@click.option("--module", "module", default=None, help="Module (default: the target's first).")
@inventory_or_config
@click.option("--timeout", default=10.0, show_default=True, help="Seconds for the probe.")
def probe(target: str, module: str | None, inventory_path: str | None, timeout: float) -> None:
    """Probe TARGET once and print its metrics in the Prometheus text format."""
    from fleetwatch.exporters.server import Exporter

    exp = Exporter(load(inventory_path))

    async def once() -> bytes:
        try:
            result = await exp.probe(target, module, timeout)
        finally:
            await exp.close()
        for source, reason in sorted(result.errors.items()):
            click.echo(f"# {source} failed: {reason}", err=True)
        return result.exposition()

    sys.stdout.buffer.write(asyncio.run(once()))


@click.command()
@click.option("--metrics", "with_metrics", is_flag=True, help="List each module's metric families.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable catalog.")
def modules(with_metrics: bool, as_json: bool) -> None:
    """The exporter modules and (with --metrics) the metric families each declares."""
    from fleetwatch.exporters import registry

    catalog = {}
    for name in registry.module_names():
        entry: dict[str, object] = {"description": registry.describe(name)}
        if with_metrics or as_json:
            mod = registry.create(name)
            entry["metrics"] = [
                {"name": s.name, "type": s.type, "labels": list(s.labels), "help": s.help}
                for s in mod.specs()
            ]
        catalog[name] = entry
    if as_json:
        click.echo(json.dumps(catalog, indent=2, sort_keys=True))
        return
    for name, entry in catalog.items():
        click.echo(f"{name}: {entry['description']}")
        for m in entry.get("metrics", []):  # type: ignore[attr-defined]
            labels = ",".join(m["labels"])
            click.echo(f"  {m['name']} {m['type']} {{{labels}}} {m['help']}")
