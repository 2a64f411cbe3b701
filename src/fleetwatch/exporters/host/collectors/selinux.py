"""selinux: whether SELinux is enabled, and its configured and current modes.

    node_selinux_enabled 1
    node_selinux_config_mode 1
    node_selinux_current_mode 1

Modes as node_exporter: -1 disabled, 0 permissive, 1 enforcing.  SELinux counts as enabled when
selinuxfs answers at /sys/fs/selinux (its ``enforce`` file is readable); then, as node_exporter,
both modes are exported, else only ``node_selinux_enabled 0``.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

ENFORCE = "/sys/fs/selinux/enforce"
CONFIG = "/etc/selinux/config"

ENABLED = gauge("node_selinux_enabled", "SELinux is enabled, 1 is true, 0 is false")
CONFIG_MODE = gauge(
    "node_selinux_config_mode",
    "Configured SELinux enforcement mode (-1: disabled, 0: permissive, 1: enforcing)",
)
CURRENT_MODE = gauge(
    "node_selinux_current_mode",
    "Current SELinux enforcement mode (-1: disabled, 0: permissive, 1: enforcing)",
)
_MODES = {"disabled": -1, "permissive": 0, "enforcing": 1}


def parse_enforce(text: str) -> int:
    value = text.strip()
    if value not in ("0", "1"):
        raise ParseError(ENFORCE, f"expected 0 or 1, got {value[:20]!r}")
    return int(value)


def parse_config_mode(text: str) -> int:
    """The ``SELINUX=`` mode of /etc/selinux/config (-1 when not set, as SELinux reads it)."""
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == "SELINUX":
            mode = value.strip().strip("\"'").lower()
            if mode not in _MODES:
                raise ParseError(CONFIG, f"unknown SELINUX mode {mode[:20]!r}")
            return _MODES[mode]
    return -1


class SelinuxCollector(Collector):
    name = "selinux"
    specs = (ENABLED, CONFIG_MODE, CURRENT_MODE)

    def files(self, opts: Options) -> tuple[str, ...]:
        return (ENFORCE, CONFIG)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        enforce = snap.file(ENFORCE)
        if not enforce:
            out.add(ENABLED, 0)
            return
        out.add(ENABLED, 1)
        out.add(CURRENT_MODE, parse_enforce(enforce))
        out.add(CONFIG_MODE, parse_config_mode(snap.file(CONFIG) or ""))


COLLECTORS = [SelinuxCollector]
