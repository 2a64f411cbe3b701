"""What one collection read from a host: file contents and command outputs, as text."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from fleetwatch.errors import ParseError


@dataclass
class Snapshot:
    """Contents read in one collection.

    ``files`` maps an absolute path to its text (a file that could not be opened is absent; one
    that opened but failed to read may be empty).  ``commands`` maps a command key (declared by a
    collector) to its combined stdout / stderr.
    """

    files: dict[str, str] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    _under: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def file(self, path: str) -> str | None:
        return self.files.get(path)

    def require(self, path: str) -> str:
        """The text of a file the collector cannot do without; ParseError when absent."""
        text = self.files.get(path)
        if text is None:
            raise ParseError(path, "not readable")
        return text

    def glob(self, pattern: str) -> list[tuple[str, str]]:
        """(path, text) of every file read whose path matches the shell pattern, sorted.

        ``*`` does not cross ``/``, as in the shell that expanded the pattern on the host.
        """
        parts = pattern.split("/")
        out = []
        for path, text in self.files.items():
            pp = path.split("/")
            if len(pp) == len(parts) and all(
                fnmatch.fnmatchcase(a, b) for a, b in zip(pp, parts, strict=True)
            ):
                out.append((path, text))
        out.sort()
        return out

    def under(self, prefix: str) -> list[tuple[str, str]]:
        """(rest of the path, text) of every file whose path starts with ``prefix`` (computed
        once per prefix: several collectors walk /sys/class/net/ and the like)."""
        found = self._under.get(prefix)
        if found is None:
            n = len(prefix)
            found = self._under[prefix] = [
                (path[n:], text) for path, text in self.files.items() if path.startswith(prefix)
            ]
        return found

    def command(self, key: str) -> str | None:
        return self.commands.get(key)
