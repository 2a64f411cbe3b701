"""vmstat: the fields of /proc/vmstat that match the vmstat-fields regex, untyped.

node_vmstat_pgfault 1.559239e+06
node_vmstat_pgmajfault 831
node_vmstat_oom_kill 0
"""

from __future__ import annotations

import functools
import re

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, untyped
from fleetwatch.exporters.host.collectors._sysfs import int_text, selected
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

PATH = "/proc/vmstat"
# what the default regex selects on a current kernel, declared for the catalog
KNOWN_FIELDS = ("oom_kill", "pgfault", "pgmajfault", "pgpgin", "pgpgout", "pswpin", "pswpout")

_KEY = re.compile(r"^[A-Za-z0-9_]+$")


@functools.lru_cache(maxsize=4096)
def spec_for(field: str) -> Spec:
    return untyped(f"node_vmstat_{field}", f"/proc/vmstat information field {field}.")


SPECS = tuple(spec_for(f) for f in KNOWN_FIELDS)


def parse_vmstat(text: str) -> dict[str, float]:
    """Every field of /proc/vmstat with its value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not _KEY.match(parts[0]) or not int_text(parts[1]):
            raise ParseError(PATH, f"invalid line: {line[:80]!r}")
        out[parts[0]] = float(int(parts[1]))
    if not out:
        raise ParseError(PATH, "no fields")
    return out


class VmstatCollector(Collector):
    name = "vmstat"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        # node_exporter checks every value before filtering, so garbage anywhere fails
        values = parse_vmstat(text)
        try:
            re.compile(opts.vmstat_fields)
        except re.error as exc:
            raise ParseError("vmstat fields option", f"bad regex: {exc}") from None
        for field, value in values.items():
            if selected(opts.vmstat_fields, field):
                out.add(spec_for(field), value)


COLLECTORS = [VmstatCollector]
