"""Where the test fixture trees are: one definition for every test module."""

from __future__ import annotations

from pathlib import Path

#: tests/fixtures: the fake /proc, /sys, /etc, /run and command outputs
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROC = FIXTURES / "proc"
