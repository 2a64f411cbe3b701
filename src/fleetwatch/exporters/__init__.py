"""Exporters: modules that collect from targets and expose Prometheus metrics."""
