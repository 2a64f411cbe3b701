"""The line format of /proc/net/rpc/nfs and /proc/net/rpc/nfsd, as prometheus/procfs 0.8 reads
it for node_exporter 1.5: ``<label> <u64> <u64> ...`` per line; the ``procN`` lines start with
their number of values.  Shared by the nfs and nfsd collectors."""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.host.collectors._sysfs import uint, uints

# procfs's field names (they become the ``method`` label), in the kernel's order
V2 = (
    "Null", "GetAttr", "SetAttr", "Root", "Lookup", "ReadLink", "Read", "WrCache", "Write",
    "Create", "Remove", "Rename", "Link", "SymLink", "MkDir", "RmDir", "ReadDir", "FsStat",
)  # fmt: skip
V3 = (
    "Null", "GetAttr", "SetAttr", "Lookup", "Access", "ReadLink", "Read", "Write", "Create",
    "MkDir", "SymLink", "MkNod", "Remove", "RmDir", "Rename", "Link", "ReadDir", "ReadDirPlus",
    "FsStat", "FsInfo", "PathConf", "Commit",
)  # fmt: skip


def parse_lines(
    text: str, source: str, first_two: frozenset[str] = frozenset()
) -> dict[str, list[int]]:
    """label -> values of every line; a line needs a label and a value; labels in
    ``first_two`` keep only their first two values (nfsd's ``th`` has float histograms)."""
    out: dict[str, list[int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            raise ParseError(source, f"invalid line {line[:80]!r}")
        label, fields = parts[0], parts[1:]
        if label in first_two:
            if len(fields) < 2:
                raise ParseError(source, f"invalid {label} line {line[:80]!r}")
            fields = fields[:2]
        values = uints(fields)
        out[label] = values if values is not None else [uint(f, source) for f in fields]
    return out


def exact(values: list[int] | None, n: int, label: str, source: str) -> list[int]:
    """A fixed-length line's values; zeros when the line is absent (procfs's zero struct)."""
    if values is None:
        return [0] * n
    if len(values) != n:
        raise ParseError(source, f"{label}: {len(values)} values, expected {n}")
    return values


def counted(values: list[int] | None, label: str, source: str, minimum: int = 0) -> list[int]:
    """A ``procN`` line's values after its count (which must match), at least ``minimum``."""
    if values is None:
        return []
    if not values or values[0] != len(values) - 1 or values[0] < minimum:
        raise ParseError(source, f"{label}: bad value count in {values[:4]}...")
    return values[1:]


def procedures(names: tuple[str, ...], values: list[int]) -> dict[str, int]:
    """name -> count, zero for the procedures the line does not have."""
    return {name: values[i] if i < len(values) else 0 for i, name in enumerate(names)}
