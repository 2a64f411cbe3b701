"""The ``fleetwatch`` command line."""
