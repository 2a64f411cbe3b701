"""fleetwatch's own closed world: every series name a query on its build may use.

Exporter modules declare their families (``Module.specs``); the exporter declares its own
(``selfmetrics.self_specs``); Prometheus adds ``up`` and friends; recording rules add theirs
(passed in by the caller, from the rule files it validates).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from fleetwatch.exporters.families import Spec
from fleetwatch.rule_names import INVENTORY_SERIES

#: series Prometheus itself writes for every scrape, alert and rule evaluation
PROMETHEUS_SERIES = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "ALERTS",
        "ALERTS_FOR_STATE",
    }
)


@lru_cache(maxsize=1)
def module_specs() -> tuple[Spec, ...]:
    from fleetwatch.exporters import registry
    from fleetwatch.exporters.selfmetrics import self_specs

    specs: list[Spec] = list(self_specs())
    for name in registry.module_names():
        specs.extend(registry.create(name).specs())
    return tuple(specs)


def known_series(recorded: Iterable[str] = ()) -> frozenset[str]:
    """Sample names queries may use: modules' + the exporter's + Prometheus' + ``recorded``."""
    names = {n for spec in module_specs() for n in spec.sample_names}
    return frozenset(names | PROMETHEUS_SERIES | INVENTORY_SERIES | set(recorded))
