"""Checking YAML input files: every problem a ConfigError with file:line and key path.

Shared by the inventory, dashboard and rule loaders: a ``Findings`` collector, a guard for
non-string mapping keys, and human messages for jsonschema errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.inventory.yamlpos import Document, JsonPath, format_path


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


def schema_messages(
    error: Any, skip_key: Callable[[str], bool] = lambda key: False
) -> Iterator[tuple[JsonPath, str]]:
    """Human messages (and the path to point at) for one jsonschema ``ValidationError``."""
    path: JsonPath = tuple(error.absolute_path)
    kind: str = error.validator
    value: Any = error.validator_value
    inst: Any = error.instance
    sub: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.schema_path:
        yield (*path, inst), f"label name {inst!r} {sub.get('x-message', 'is invalid')}"
    elif kind == "additionalProperties":
        known = sorted(sub.get("properties", {}))
        for key in inst:
            if key in known or skip_key(key):  # e.g. secrets, reported on their own
                continue
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
            )
            yield (*path, key), f"unknown key {key!r}; {hint}"
    elif kind == "required":
        for key in value:
            if key not in inst:
                yield path, f"missing required key {key!r}"
    elif kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(TYPE_NAMES.get(t, t) for t in wanted)
        hint = "; quote it" if "string" in wanted and isinstance(inst, int | float) else ""
        yield path, f"must be {expected}, got {describe(inst)}{hint}"
    elif kind == "enum":
        hint = " (YAML reads unquoted yes/no/on/off as booleans; quote it)"
        hint = hint if isinstance(inst, bool) else ""
        yield path, f"must be one of {', '.join(map(repr, value))}; got {short(inst)}{hint}"
    elif kind == "const":
        yield path, f"must be {value!r}; got {short(inst)}"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }
        yield path, f"must be {words[kind]} {value}; got {short(inst)}"
    elif kind in ("minItems", "minLength") and value == 1:
        yield path, "must not be empty"
    elif kind == "uniqueItems":
        seen: list[Any] = []
        for i, item in enumerate(inst):
            if item in seen:
                yield (*path, i), f"duplicate item {short(item)}"
            seen.append(item)
    elif kind == "pattern":
        yield path, f"invalid value {short(inst)}: {sub.get('x-message', f'must match {value}')}"
    else:
        yield path, str(error.message)
