"""``fleetwatch`` run as a user runs it: ``python -m fleetwatch ARGS`` in a folder, output
captured, stdin closed, bounded by a timeout."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def fleetwatch(
    *args: str, cwd: Path, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetwatch", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip
