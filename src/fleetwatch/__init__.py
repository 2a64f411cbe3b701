"""fleetwatch: agentless fleet monitoring and monitoring as code."""

__version__ = "0.1.0"
