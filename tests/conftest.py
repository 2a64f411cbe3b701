"""Shared fixtures; real-server fixtures live in tests/servers/."""
