"""The collector interface of the host module.

A collector declares which files (shell glob patterns) and which shell snippets it needs; the
script builder (``fleetwatch.exporters.host.script``) joins the needs of every enabled collector
into ONE remote command, and the collector turns the resulting ``Snapshot`` into samples.
Parsing lives in module-level pure functions (text in, values out) next to each collector.

A collector raises ``ParseError`` (or lets ValueError / IndexError / KeyError escape, which the
runner turns into a ParseError naming the collector) on garbage; the probe then reports
``node_scrape_collector_success{collector}`` 0 for it and goes on with the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from fleetwatch.exporters.families import Families, Spec
from fleetwatch.exporters.host.snapshot import Snapshot

# the options belong to the inventory (collectors.options): defined there, once
from fleetwatch.inventory.collector_options import Options

__all__ = ["Collector", "NoData", "Options"]


class NoData(Exception):
    """The collector's source does not exist on this host (no /proc/mdstat, no hwmon class):
    ``node_scrape_collector_success`` 0, as node_exporter's ErrNoData, but not an error."""


class Collector(ABC):
    """One node_exporter collector.  Subclasses set ``name`` and ``specs``."""

    name: ClassVar[str]
    specs: ClassVar[tuple[Spec, ...]]
    #: enabled unless the inventory disables it (node_exporter's default set)
    default: ClassVar[bool] = True

    def files(self, opts: Options) -> tuple[str, ...]:
        """Absolute paths or shell glob patterns of the files this collector reads."""
        return ()

    def commands(self, opts: Options) -> dict[str, str]:
        """Shell snippets (POSIX sh) whose output this collector reads, by unique key.

        A snippet runs inside ``{ ...; } 2>&1`` of the one remote script: it must not exit, must
        not read stdin, and must degrade (print nothing or an error line) when a tool is absent.
        """
        return {}

    def inputs(self, snap: Snapshot, opts: Options) -> tuple[object, ...] | None:
        """Everything ``collect`` reads from ``snap``, for a collector whose sources rarely
        change between probes (sysfs attributes, os-release, mounts): while they compare equal
        to the last probe's of the same target, the runner reuses that probe's result instead
        of parsing again.  None (the default): collect every time."""
        return None

    @abstractmethod
    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        """Turn the snapshot into samples of ``specs``."""
