"""The modules the exporter offers, by name (built lazily: each may import heavy libraries)."""

from __future__ import annotations

from collections.abc import Callable

from fleetwatch.exporters.module import Module

MODULE_DESCRIPTIONS: dict[str, str] = {
    "ssh": "Linux host over SSH: node_exporter names (nothing installed on the host)",
    "local": "this machine's own /proc and /sys: node_exporter names",
}


def _factories() -> dict[str, Callable[[], Module]]:
    from fleetwatch.exporters.host.module import local_module, ssh_module

    return {"ssh": ssh_module, "local": local_module}


def module_names() -> list[str]:
    return sorted(MODULE_DESCRIPTIONS)


def create(name: str) -> Module:
    return _factories()[name]()
