"""Checking input files: every problem a ConfigError with file:line and key path.

Shared by the inventory, dashboard, rule and alerting loaders: a ``Findings`` collector, a guard
for non-string mapping keys, and short descriptions of values for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleetwatch.config.yamlpos import Document, JsonPath, format_path
from fleetwatch.errors import ConfigError, ConfigErrors


@dataclass
class Findings:
    """Every problem in one YAML input file, each a ``ConfigError`` with file:line and key."""

    file: str
    doc: Document
    items: dict[tuple[JsonPath, str], ConfigError] = field(default_factory=dict)

    def add(self, path: JsonPath, message: str) -> None:
        if (path, message) not in self.items:
            line = self.doc.line(path)
            self.items[(path, message)] = ConfigError(self.file, message, line, format_path(path))

    def __bool__(self) -> bool:
        return bool(self.items)

    def error(self) -> ConfigErrors:
        errors = sorted(self.items.values(), key=lambda e: (e.line or 0, e.key))
        return ConfigErrors(errors)


def string_keys(value: Any, path: JsonPath, findings: Findings) -> Any:
    """A copy of ``value`` whose mapping keys are all strings; others are reported."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = key if isinstance(key, str) else str(key)
            if not isinstance(key, str):
                findings.add((*path, skey), f"key {key!r} must be a string; quote it")
            out[skey] = string_keys(item, (*path, skey), findings)
        return out
    if isinstance(value, list):
        return [string_keys(item, (*path, i), findings) for i, item in enumerate(value)]
    return value


TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


def describe(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float | str):
        kind = {int: "an integer", float: "a number", str: "a string"}[type(value)]
        text = repr(value)
        return f"{kind} ({text if len(text) <= 40 else text[:37] + '...'})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} ({value})"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
