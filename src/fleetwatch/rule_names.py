"""Names of the recording rules that more than one part of fleetwatch spells.

``fleetwatch build`` records them from the inventory (``provisioning/prometheus.py``:
prometheus/rules/inventory.yml); threshold alerts join them (``rules/threshold.py``), the
generated promtool tests feed them (``rules/unittests.py``) and the catalog lets queries use
them.  Content (``rules/*.yaml``, ``dashboards/**/*.yaml``) writes them out; a test checks
that every such name it uses is one of these.
"""

from __future__ import annotations

#: 1 while the inventory puts the host in maintenance, else 0 (labels: instance, deployment,
#: provider)
MAINTENANCE = "instance:maintenance:inventory"
#: a host's alert threshold as a ratio, label ``resource`` = cpu | memory | disk
THRESHOLD = "instance:threshold:ratio"
#: a deployment's allocated resources (inventory ``resources:``)
ALLOCATED_CPU_CORES = "deployment:allocated_cpu_cores:inventory"
ALLOCATED_MEMORY_BYTES = "deployment:allocated_memory_bytes:inventory"
ALLOCATED_STORAGE_BYTES = "deployment:allocated_storage_bytes:inventory"

#: 1 per ``depends_on`` edge: ``source`` (the dependent) needs ``target`` (its dependency),
#: both inventory target names (= their ``instance``); the health grid's dependency map
DEPENDENCY = "edge:dependency:inventory"
#: 1 per target on either end of an edge (labels instance, title = its name, deployment,
#: provider): the dependency map's nodes
DEPENDENCY_NODE = "instance:dependency_node:inventory"

#: every series the inventory's recording rules may write (a fleet without ``resources:``
#: records none of the allocated ones)
INVENTORY_SERIES = frozenset(
    {
        MAINTENANCE,
        THRESHOLD,
        ALLOCATED_CPU_CORES,
        ALLOCATED_MEMORY_BYTES,
        ALLOCATED_STORAGE_BYTES,
        DEPENDENCY,
        DEPENDENCY_NODE,
    }
)
