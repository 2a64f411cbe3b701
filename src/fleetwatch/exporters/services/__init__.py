"""Service modules of the exporter: one file per module (postgres, redis, http, ...)."""
