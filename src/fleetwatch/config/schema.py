"""Human messages for JSON-Schema errors, one wording for every input file kind.

Schemas steer the wording with two extension keywords: ``x-message`` (what a value or name must
be, for ``pattern`` and ``propertyNames``) and ``x-name`` (what a mapping's keys are, for
``propertyNames``: ``label name``, ``receiver name``...).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from fleetwatch.config.findings import TYPE_NAMES, describe, short
from fleetwatch.config.yamlpos import JsonPath

#: ``skip_key(path, key)``: an unknown key reported elsewhere (an inline secret, say)
SkipKey = Callable[[JsonPath, str], bool]

_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}


def hint(word: str, known: list[str]) -> str:
    """``did you mean 'x'?`` for a close match, else the list of what is known."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"


def schema_messages(
    error: Any, skip_key: SkipKey = lambda path, key: False
) -> Iterator[tuple[JsonPath, str]]:
    """Messages (and the path to point at) for one jsonschema ``ValidationError``."""
    path: JsonPath = tuple(error.absolute_path)
    kind: str = error.validator
    value: Any = error.validator_value
    inst: Any = error.instance
    sub: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.schema_path:
        # the error is about a key: point at the key's own line
        name = sub.get("x-name", "label name")
        yield (*path, str(inst)), f"{name} {inst!r} {sub.get('x-message', 'is invalid')}"
    elif kind == "additionalProperties":
        known = sorted(sub.get("properties", {}))
        for key in inst:
            if key not in known and not skip_key(path, str(key)):
                yield (*path, str(key)), f"unknown key {key!r}; {hint(str(key), known)}"
    elif kind == "required":
        for key in value:
            if key not in inst:
                yield path, f"missing required key {key!r}"
    elif kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(TYPE_NAMES.get(t, t) for t in wanted)
        quote = "; quote it" if "string" in wanted and isinstance(inst, int | float) else ""
        yield path, f"must be {expected}, got {describe(inst)}{quote}"
    elif kind == "enum":
        extra = ""
        if isinstance(inst, bool):
            extra = " (YAML reads unquoted yes/no/on/off as booleans; quote it)"
        elif isinstance(inst, str) and any(c.isalnum() for c in inst):  # words, not operators
            close = hint(inst, [str(v) for v in value])
            extra = f"; {close}" if close.startswith("did") else ""
        yield path, f"must be one of {', '.join(map(repr, value))}; got {short(inst)}{extra}"
    elif kind == "const":
        yield path, f"must be {value!r}; got {short(inst)}"
    elif kind in _BOUNDS:
        yield path, f"must be {_BOUNDS[kind]} {value}; got {short(inst)}"
    elif kind in ("minItems", "minLength", "minProperties") and value == 1:
        yield path, "must not be empty"
    elif kind == "uniqueItems":
        seen: list[Any] = []
        for i, item in enumerate(inst):
            if item in seen:
                yield (*path, i), f"duplicate item {short(item)}"
            seen.append(item)
    elif kind in ("pattern", "anyOf", "oneOf") and "x-message" in sub:
        yield path, f"invalid value {short(inst)}: {sub['x-message']}"
    elif kind == "pattern":
        yield path, f"invalid value {short(inst)}: must match {value}"
    else:
        yield path, str(error.message)
