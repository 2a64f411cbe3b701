"""Which exporter replica probes which target: rendezvous (highest random weight) hashing.

Each target goes to the exporter whose ``blake2b(exporter_id, target_name)`` weight is highest;
a pin in ``scale.pins`` wins.  Adding an exporter moves only the targets it now wins (about
1/(N+1) of them) and removing one moves only its own, where ``hash mod N`` would move most
targets (and reopen their SSH connections).  Only names go in: labels, order in the file and
the rest of the inventory change nothing.  Python's ``hash()`` is salted per process, so a
stable digest is used.  Pure: the build and every exporter compute the same answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from fleetwatch.inventory.model import Inventory


def weight(exporter_id: str, target: str) -> int:
    """The stable weight of ``target`` on ``exporter_id`` (64 bits of blake2b)."""
    # a NUL cannot occur in either name: ("ab", "c") and ("a", "bc") differ
    data = f"{exporter_id}\0{target}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def owner(target: str, exporter_ids: Iterable[str]) -> str:
    """The exporter of ``target`` by hashing alone: the highest weight (a tie, 2**-64 a pair,
    goes to the greater id, whatever order the ids come in)."""
    return max(exporter_ids, key=lambda e: (weight(e, target), e))


def assign(
    targets: Iterable[str], exporter_ids: Iterable[str], pins: Mapping[str, str] | None = None
) -> dict[str, str]:
    """target name -> exporter id, sorted by name; ``pins`` (name -> id) win.  ValueError if
    there is no exporter or a pin names an unknown one."""
    ids = sorted(set(exporter_ids))
    if not ids:
        raise ValueError("no exporter to assign targets to")
    pins = pins or {}
    unknown = sorted({e for e in pins.values() if e not in ids})
    if unknown:
        raise ValueError(f"pinned to unknown exporter(s): {', '.join(unknown)}")
    return {t: pins[t] if t in pins else owner(t, ids) for t in sorted(set(targets))}


def assignment(inventory: Inventory) -> dict[str, str]:
    """The inventory's assignment (every host and service); empty without ``scale:``."""
    scale = inventory.scale
    if scale is None:
        return {}
    return assign(inventory.targets(), (e.id for e in scale.exporters), scale.pins)


def targets_of(inventory: Inventory, exporter_id: str) -> frozenset[str]:
    """The names ``exporter_id`` probes; KeyError if the inventory has no such replica."""
    scale = inventory.scale
    if scale is None:
        raise KeyError(exporter_id)
    scale.exporter(exporter_id)
    return frozenset(t for t, e in assignment(inventory).items() if e == exporter_id)
