"""The modules the exporter offers, by name (built lazily: each may import heavy libraries).

Host modules (``ssh``, ``local``) probe inventory hosts; service modules (one file each in
``fleetwatch.exporters.services``) probe inventory services.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache

from fleetwatch.exporters.module import Module

HOST_MODULES: dict[str, str] = {
    "ssh": "Linux host over SSH: node_exporter names (nothing installed on the host)",
    "local": "this machine's own /proc and /sys: node_exporter names",
}
SERVICE_MODULES = ("postgres", "redis", "mqtt", "http", "cometbft", "ethereum", "docker")
_SERVICES = "fleetwatch.exporters.services"


@cache
def _service_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(f"{_SERVICES}.{name}") is not None
    except ModuleNotFoundError:  # no services package at all
        return False


def module_names() -> list[str]:
    return sorted([*HOST_MODULES, *(n for n in SERVICE_MODULES if _service_available(n))])


def _service_class(name: str) -> type:
    module = importlib.import_module(f"{_SERVICES}.{name}")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and getattr(value, "name", None) == name
            and hasattr(value, "probe")
        ):
            return value
    raise LookupError(f"{_SERVICES}.{name} defines no module class named {name!r}")


def describe(name: str) -> str:
    if name in HOST_MODULES:
        return HOST_MODULES[name]
    return str(getattr(_service_class(name), "description", name))


def create(name: str, *, max_concurrency: int = 64) -> Module:
    """A new instance of module ``name``; ``max_concurrency`` bounds the ``ssh`` module's probes
    running at once (``fleetwatch exporter --max-concurrency``)."""
    if name in HOST_MODULES:
        from fleetwatch.exporters.host.module import local_module, ssh_module

        return ssh_module(max_concurrency) if name == "ssh" else local_module()
    instance: Module = _service_class(name)()
    return instance
