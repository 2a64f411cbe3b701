"""The fleet inventory (``fleet.yaml`` v1): which hosts to monitor and how to reach them."""

from __future__ import annotations

from fleetwatch.inventory.loader import default_inventory, inventory_from_text, load_inventory
from fleetwatch.inventory.model import (
    App,
    Defaults,
    Deployment,
    Host,
    Inventory,
    Resources,
    Service,
    SSHSettings,
    Stack,
    Thresholds,
)

__all__ = [
    "App",
    "Defaults",
    "Deployment",
    "Host",
    "Inventory",
    "Resources",
    "SSHSettings",
    "Service",
    "Stack",
    "Thresholds",
    "default_inventory",
    "inventory_from_text",
    "load_inventory",
]
