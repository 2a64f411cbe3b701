"""What validate knows of metric names and types, for fleetwatch's build and for other files.

fleetwatch's own build is a closed world: every name must be one its modules, Prometheus,
the inventory or a recording rule produce.  Other files are checked against the catalogs
(shipped ones for the exporters users run, ``--catalog`` files, a live Prometheus): a name
under a namespace a catalog claims that the catalog lacks is an error with a did-you-mean;
a name no catalog claims is not an error (it may come from the user's own application).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fleetwatch.validate.semantics import Recorded


class Knowledge:
    def __init__(
        self,
        own_known: frozenset[str],
        catalog: Any | None,
        recorded: Mapping[str, Recorded],
        own_types: Mapping[str, str],
    ) -> None:
        self.own_known = own_known
        self.catalog = catalog
        self.recorded = recorded
        self.own_types = own_types
        from fleetwatch.catalog import shipped_names

        self._shipped = frozenset(shipped_names())  # read once: declared_gauge runs per selector

    def sample_type(self, name: str) -> str | None:
        if name in self.recorded:
            return None
        if self.catalog is not None:
            kind = self.catalog.sample_type(name)
            if kind is not None:
                return str(kind)
        return self.own_types.get(name)

    def declared_gauge(self, name: str) -> bool:
        """``name`` is a gauge by the user's own word (a catalog of theirs, the inventory), not
        by an exporter's TYPE line (node_exporter types some monotonic ``_total`` as gauges)."""
        if self.catalog is None:
            return False
        metric = self.catalog.lookup(name)
        if metric is None or metric.type != "gauge":
            return False
        return str(metric.source) not in self._shipped

    def unknown(self, name: str, own: bool) -> str | None:
        """The message for a name that cannot exist, or None."""
        if name in self.recorded or name in self.own_known:
            return None
        if self.catalog is not None and self.catalog.lookup(name) is not None:
            return None
        if own:
            return f"{name} is not in the catalog (exporters, recording rules, inventory)"
        if self.catalog is None:
            return None
        source = self.catalog.claimed_by(name)
        if source is None:
            return None
        hint = self.catalog.suggest(name)
        mean = f"; did you mean {' or '.join(hint)}?" if hint else ""
        return f"{name} is not a metric of {source}{mean}"

    def deprecated(self, name: str) -> str | None:
        if self.catalog is None or name in self.own_known:
            return None
        metric = self.catalog.lookup(name)
        note = getattr(metric, "deprecated", "") if metric is not None else ""
        return f"{name}: {note}" if note else None


def own_types(specs: Iterable[Any]) -> dict[str, str]:
    """Sample name -> type of fleetwatch's own families (histogram parts are counters)."""
    out: dict[str, str] = {}
    for spec in specs:
        for sample in spec.sample_names:
            if spec.type in ("histogram", "summary") and sample != spec.name:
                out[sample] = (
                    "counter" if sample.endswith(("_bucket", "_sum", "_count")) else "gauge"
                )
            else:
                out[sample] = str(spec.type)
    return out


def load_catalog(files: Iterable[Any], prometheus: str | None) -> Any | None:
    """The shipped catalogs, merged with the user's (files, a live Prometheus)."""
    try:
        from fleetwatch import catalog as cat
    except ImportError:  # pragma: no cover
        return None
    shipped = getattr(cat, "shipped", None)
    if shipped is None:
        return None
    parts = [shipped()]
    parts += [getattr(cat, "load_catalog")(f) for f in files]  # noqa: B009 - until it lands
    if prometheus:
        parts.append(getattr(cat, "from_prometheus")(prometheus))  # noqa: B009
    return parts[0].merge(*parts[1:]) if len(parts) > 1 else parts[0]
