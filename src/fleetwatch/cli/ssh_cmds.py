"""``fleetwatch ssh restrict``: the authorized_keys line of a key that can only monitor."""

from __future__ import annotations

from pathlib import Path

import click

from fleetwatch.cli.options import inventory_option
from fleetwatch.errors import UsageError


@click.group()
def ssh() -> None:
    """SSH keys for the host module."""


@ssh.command("restrict")
@click.argument("public_key_file", type=click.Path(dir_okay=False), required=False)
@inventory_option
@click.option(
    "--host",
    "host_names",
    multiple=True,
    metavar="NAME",
    help="The host(s) the key is for (default: every host of the inventory).",
)
@click.option(
    "--agent-file",
    default=None,
    metavar="PATH",
    help="Run the agent from PATH on the host (install it with --print-agent) "
    "instead of inline: for an sshd that limits lines to 8 KiB.",
)
@click.option(
    "--print-agent",
    is_flag=True,
    help="Print the restricted agent program (for --agent-file) and exit.",
)
def restrict(
    public_key_file: str | None,
    inventory_path: str | None,
    host_names: tuple[str, ...],
    agent_file: str | None,
    print_agent: bool,
) -> None:
    """Print the authorized_keys line for PUBLIC_KEY_FILE: restrict,command="…" KEY.

    The key then runs the collection agent with the plan of the chosen hosts (their
    collectors and options) and nothing else: no shell, no other command, no forwarding.
    Set ``ssh: {restricted: true}`` for those hosts.  A change of their collectors or
    options changes the plan: print and install the line again.
    """  # fmt: skip
    from fleetwatch.exporters.host.restricted import LINE_LIMIT, authorized_keys_line, program

    if print_agent:
        click.echo(program(), nl=False)
        return
    if public_key_file is None:
        raise UsageError("give PUBLIC_KEY_FILE (the .pub file of the monitoring key)")
    key = _public_key(Path(public_key_file))
    hashes = _plan_hashes(inventory_path, host_names)
    line = authorized_keys_line(key, hashes, agent_file)
    if len(line) >= LINE_LIMIT and agent_file is None:
        click.echo(
            f"fleetwatch: note: this line is {len(line)} bytes; OpenSSH before 8.x reads at most"
            f" {LINE_LIMIT} per authorized_keys line: for such a host use --agent-file",
            err=True,
        )
    click.echo(line)


def _public_key(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="strict")[:65536]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the public key: {exc}") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1 or len(lines[0].split()) < 2 or "PRIVATE KEY" in text:
        raise UsageError(f"{path}: not one OpenSSH public key line (give the .pub file)")
    kind = lines[0].split()[0]
    if not (kind.startswith(("ssh-", "ecdsa-", "sk-")) or "@openssh.com" in kind):
        raise UsageError(f"{path}: {kind[:40]!r} is not an OpenSSH public key type")
    return lines[0]


def _plan_hashes(inventory_path: str | None, host_names: tuple[str, ...]) -> list[str]:
    from fleetwatch.exporters.host.collectors import select
    from fleetwatch.exporters.host.restricted import plan_hash
    from fleetwatch.exporters.host.script import make_plan
    from fleetwatch.inventory import default_inventory, load_inventory

    inv = (
        load_inventory(inventory_path, check_files=False) if inventory_path else default_inventory()
    )
    # a node_exporter host is scraped directly: it has no SSH plan to restrict
    hosts = [h for h in inv.hosts() if not h.node_exporter]
    if host_names:
        known = {h.name: h for h in hosts}
        missing = [n for n in host_names if n not in known]
        if missing:
            raise UsageError(f"no host {', '.join(missing)} in {inventory_path or 'the inventory'}")
        hosts = [known[n] for n in host_names]
    if not hosts:
        raise UsageError(f"{inventory_path or 'the inventory'} has no host")
    return sorted(
        {
            plan_hash(
                make_plan(select(list(h.collectors_enable), list(h.collectors_disable)), h.options)
            )
            for h in hosts
        }
    )
