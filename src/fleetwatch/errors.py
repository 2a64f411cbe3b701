"""The one exception hierarchy of fleetwatch.

Every error a user can cause (a bad file, an unreachable host) is a ``FleetwatchError`` whose
message names the file / line / key or the target and the reason.  The CLI prints the message
without a traceback and exits with ``exit_code``.
"""

from __future__ import annotations


class FleetwatchError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(FleetwatchError):
    """The command line itself is wrong (unknown target, module...)."""

    exit_code = 2


class ConfigError(FleetwatchError):
    """An input file (inventory, dashboard, rule) is invalid.

    ``location`` is ``file:line`` (line omitted when unknown) and ``key`` the dotted path.
    """

    exit_code = 3

    def __init__(self, file: str, message: str, line: int | None = None, key: str = "") -> None:
        self.file = file
        self.line = line
        self.key = key
        self.detail = message  # without the file, line and key
        loc = f"{file}:{line}" if line else file
        where = f" ({key})" if key else ""
        super().__init__(f"{loc}: {message}{where}")


class ConfigErrors(FleetwatchError):
    """Several ``ConfigError`` found at once (validation reports all, not only the first)."""

    exit_code = 3

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.message for e in errors))


class ProbeError(FleetwatchError):
    """A probe of one target failed; ``reason`` is a short label for metrics."""

    exit_code = 4

    def __init__(self, target: str, reason: str, detail: str) -> None:
        self.target = target
        self.reason = reason
        self.detail = detail
        super().__init__(f"target {target}: {reason}: {detail}")


class ParseError(FleetwatchError):
    """Text from a target (a /proc file, a command's output) could not be parsed."""

    exit_code = 4

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


class ToolError(FleetwatchError):
    """An external tool (promtool, amtool, prometheus) is missing or failed."""

    exit_code = 5


class ToolUnavailable(ToolError):
    """An external tool cannot run at all (not installed, Docker without a daemon): one
    message for the whole run, never one finding per file."""


class FetchError(FleetwatchError):
    """A URL could not be read (unreachable, HTTP error, too large, too slow, not the expected
    answer): the message names the URL.  Used by the metric catalogs' live sources."""

    exit_code = 4
