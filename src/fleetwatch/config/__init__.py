"""The config toolkit every loader and writer of fleetwatch shares, written once.

* ``yamlpos``: YAML with the line of every key and item (``load_yaml``), plain fast YAML
  (``load_data``), JSON paths (``format_path``).
* ``findings``: ``Findings`` (every problem of one input file, each file:line:key), the
  non-string-key guard, value descriptions.
* ``schema``: human messages for JSON-Schema errors (one wording for inventory, dashboards,
  rules and alerting).
* ``secrets``: inline secrets refused wherever they stand, values never echoed.
* ``durations``: Prometheus durations (``15s``, ``1m30s``, ``1d``) as seconds.
* ``writers``: deterministic YAML / JSON (same data, same bytes; one dumper, one line width).

It imports nothing of fleetwatch but ``errors``: inventory, dashboards, rules, provisioning and
validate all build on it.
"""
