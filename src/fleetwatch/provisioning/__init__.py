"""Provisioning: Prometheus configuration and Grafana provisioning compiled from the inventory."""
