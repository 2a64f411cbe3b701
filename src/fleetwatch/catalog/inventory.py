"""The metrics an inventory defines itself: today the postgres services' custom SQL queries.

(The http module's ``json_fields`` are one family, ``probe_json_value{field}``, that the
module declares already; redis ``check_keys`` feed ``redis_key_size`` the same way.)
"""

from __future__ import annotations

from typing import Any

from fleetwatch.catalog.model import Catalog, Metric

SOURCE = "inventory"


def inventory_catalog(inv: Any) -> Catalog:
    """A catalog of what ``inv``'s services define, each with the type declared there."""
    from fleetwatch.errors import ParseError
    from fleetwatch.exporters.services._pg_custom import parse_custom_queries

    metrics: list[Metric] = []
    for deployment in inv.deployments:
        for service in deployment.services:
            if service.module != "postgres":
                continue
            try:
                queries = parse_custom_queries(service.params.get("queries"))
            except ParseError:
                continue  # the inventory check reports it
            for query in queries:
                labels = frozenset(query.label_columns)
                for m in query.metrics:
                    if m.usage not in ("gauge", "counter"):
                        continue
                    spec = query.spec(m)
                    metrics.append(
                        Metric(
                            spec.name,
                            "counter" if m.usage == "counter" else "gauge",
                            help=spec.help,
                            labels=labels,
                            source=f"{SOURCE} ({service.name})",
                        )
                    )
    return Catalog.of(metrics)
