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


# what the kernel prints: such a text takes the fast path (only the selected fields' values
# are converted); any other one the slow parse, with its error messages
_KERNEL_TEXT = re.compile(r"(?:[A-Za-z0-9_]+ -?[0-9]+\n)+", re.ASCII)


@functools.lru_cache(maxsize=256)
def _plan(names: tuple[str, ...], fields: str) -> tuple[tuple[int, Spec], ...]:
    """(position, family) of the selected fields; a repeated name's last line wins."""
    last = {name: i for i, name in enumerate(names)}
    return tuple((i, spec_for(name)) for name, i in last.items() if selected(fields, name))


def select_vmstat(text: str, fields: str) -> list[tuple[Spec, float]]:
    """``parse_vmstat`` filtered by the ``fields`` regex, as (family, value)."""
    if not _KERNEL_TEXT.fullmatch(text):
        return [(spec_for(k), v) for k, v in parse_vmstat(text).items() if selected(fields, k)]
    tokens = text.split()
    values = tokens[1::2]
    return [(spec, float(int(values[i]))) for i, spec in _plan(tuple(tokens[0::2]), fields)]


class VmstatCollector(Collector):
    name = "vmstat"
    specs = SPECS

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATH,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        text = snap.require(PATH)
        try:
            re.compile(opts.vmstat_fields)
        except re.error as exc:
            raise ParseError("vmstat fields option", f"bad regex: {exc}") from None
        # node_exporter checks every value before filtering, so garbage anywhere fails
        for spec, value in select_vmstat(text, opts.vmstat_fields):
            out.add(spec, value)


COLLECTORS = [VmstatCollector]
