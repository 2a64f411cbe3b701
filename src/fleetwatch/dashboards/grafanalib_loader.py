"""Run a ``*.dashboard.py`` file and return the JSON dict of its grafanalib ``dashboard``.

The file is executed in a fresh namespace (``runpy``); it must define a module-level
``dashboard`` that is a ``grafanalib.core.Dashboard``.  Any exception raised while running it
(or while serialising the dashboard) becomes a ``ConfigError`` naming the file and the line of
that file where it happened.
"""

from __future__ import annotations

import json
import runpy
import traceback
from pathlib import Path
from typing import Any, cast

from grafanalib._gen import DashboardEncoder  # type: ignore[import-untyped]
from grafanalib.core import Dashboard  # type: ignore[import-untyped]

from fleetwatch.errors import ConfigError

DASHBOARD_VARIABLE = "dashboard"


def load_grafanalib(path: Path, name: str | None = None) -> dict[str, Any]:
    file = name or str(path)
    try:
        namespace = runpy.run_path(str(path), run_name="__fleetwatch_dashboard__")
    except SyntaxError as exc:
        raise ConfigError(file, f"Python syntax error: {exc.msg}", exc.lineno) from None
    except BaseException as exc:  # a user's file may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _error(file, path, exc, "running it failed") from None
    dashboard = namespace.get(DASHBOARD_VARIABLE)
    if dashboard is None:
        raise ConfigError(
            file, f"defines no module-level {DASHBOARD_VARIABLE!r} (a grafanalib Dashboard)"
        )
    if not isinstance(dashboard, Dashboard):
        raise ConfigError(
            file,
            f"{DASHBOARD_VARIABLE!r} must be a grafanalib.core.Dashboard, "
            f"got {type(dashboard).__name__}",
        )
    try:
        text = json.dumps(dashboard.to_json_data(), cls=DashboardEncoder, sort_keys=True)
    except Exception as exc:
        raise _error(file, path, exc, "serialising the dashboard failed") from None
    return cast(dict[str, Any], json.loads(text))


def _error(file: str, path: Path, exc: BaseException, what: str) -> ConfigError:
    line = None
    target = str(path.resolve())
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and str(Path(frame.filename).resolve()) == target:
            line = frame.lineno
    detail = str(exc) or type(exc).__name__
    return ConfigError(file, f"{what}: {type(exc).__name__}: {detail}", line)
