"""What one collection read from a host: file contents and command outputs, as text."""

from __future__ import annotations

import bisect
import fnmatch
import functools
import re
from dataclasses import dataclass, field

from fleetwatch.errors import ParseError


@dataclass
class Snapshot:
    """Contents read in one collection.

    ``files`` maps an absolute path to its text (a file that could not be opened is absent; one
    that opened but failed to read may be empty).  ``commands`` maps a command key (declared by a
    collector) to its combined stdout / stderr.  A snapshot is filled once and then only read:
    ``glob`` and ``under`` index its paths on first use.
    """

    files: dict[str, str] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    _under: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _paths: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    def file(self, path: str) -> str | None:
        return self.files.get(path)

    def require(self, path: str) -> str:
        """The text of a file the collector cannot do without; ParseError when absent."""
        text = self.files.get(path)
        if text is None:
            raise ParseError(path, "not readable")
        return text

    def _starting(self, prefix: str) -> list[str]:
        """The paths that start with ``prefix``, sorted (a bisection of the sorted paths)."""
        paths = self._paths
        if paths is None:
            paths = self._paths = sorted(self.files)
        i = bisect.bisect_left(paths, prefix)
        j = i
        n = len(paths)
        while j < n and paths[j].startswith(prefix):
            j += 1
        return paths[i:j]

    def glob(self, pattern: str) -> list[tuple[str, str]]:
        """(path, text) of every file read whose path matches the shell pattern, sorted.

        ``*`` does not cross ``/``, as in the shell that expanded the pattern on the host.
        """
        literal, rx = _glob_regex(pattern)
        files = self.files
        return [(p, files[p]) for p in self._starting(literal) if rx.fullmatch(p)]

    def under(self, prefix: str) -> list[tuple[str, str]]:
        """(rest of the path, text) of every file whose path starts with ``prefix``, sorted by
        path (computed once per prefix: several collectors walk /sys/class/net/ and the like)."""
        found = self._under.get(prefix)
        if found is None:
            n = len(prefix)
            files = self.files
            found = self._under[prefix] = [(p[n:], files[p]) for p in self._starting(prefix)]
        return found

    def command(self, key: str) -> str | None:
        return self.commands.get(key)


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> tuple[str, re.Pattern[str]]:
    """The literal part of a shell pattern before its first wildcard, and a regex matching
    what ``fnmatch.fnmatchcase`` matches component by component (``*`` never crosses ``/``)."""
    first = min((i for i, c in enumerate(pattern) if c in "*?["), default=len(pattern))
    parts = [_component_regex(c) for c in pattern.split("/")]
    return pattern[:first], re.compile("/".join(parts), re.DOTALL)


def _component_regex(component: str) -> str:
    # fnmatch.translate's rules, with "*" and "?" kept inside one path component
    out = []
    i, n = 0, len(component)
    while i < n:
        c = component[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and component[j] == "!":
                j += 1
            if j < n and component[j] == "]":
                j += 1
            while j < n and component[j] != "]":
                j += 1
            if j >= n:
                out.append("\\[")
                continue
            body = component[i:j]
            i = j + 1
            out.append(_bracket(body))
        else:
            out.append(re.escape(c))
    return "".join(out)


def _bracket(body: str) -> str:
    """A ``[...]`` set (without its brackets) as fnmatch.translate writes it."""
    translated = fnmatch.translate(f"[{body}]")
    # "(?s:[...])\\Z": the set alone; a set that matches nothing stays one
    inner = translated[len("(?s:") : -len(")\\Z")]
    return f"(?:(?!/){inner})"
