"""fleetwatch: agentless fleet monitoring and monitoring as code."""

__version__ = "0.1.0"

#: the log line format of the CLI and of the exporter's worker processes
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
