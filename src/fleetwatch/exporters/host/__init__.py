"""The host module: node_exporter-compatible metrics from a Linux host, over SSH or locally."""
