"""What the ``fleetwatch up`` end-to-end tests share: free ports for the local stack and the
inventory's ``stack:`` section naming them."""

from __future__ import annotations

from servers import free_port

PARTS = ("exporter", "prometheus", "alertmanager", "inbox")


def free_stack_ports() -> dict[str, int]:
    """A free loopback port for each part the stack runs."""
    return {part: free_port() for part in PARTS}


def stack_section(ports: dict[str, int]) -> str:
    """The inventory's ``stack:`` section (top level, ends in a newline) for ``ports``."""
    return (
        "stack:\n"
        f'  exporter: "127.0.0.1:{ports["exporter"]}"\n'
        f'  prometheus_url: "http://127.0.0.1:{ports["prometheus"]}"\n'
        f'  alertmanager_url: "http://127.0.0.1:{ports["alertmanager"]}"\n'
        f'  inbox: "127.0.0.1:{ports["inbox"]}"\n'
    )
