"""A response body → ``probe_health_status`` (``params.health``) and ``probe_json_value``
(``params.json_fields``): pure functions, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fleetwatch.exporters.families import Families, gauge

HEALTH = gauge("probe_health_status", "1 when the body's health status is healthy, else 0")
JSON_VALUE = gauge(
    "probe_json_value", "A numeric field of the JSON body (params.json_fields)", "field"
)
HEALTHY = frozenset({"pass", "ok", "up", "healthy", "green", "warn", "serving"})


def lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path (``a.b.0.c``: integers index lists); KeyError if absent."""
    value = doc
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(path)
    return value


def numeric(value: Any) -> float | None:
    """A number, a numeric string or a boolean as a float; None for anything else."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def health_of(doc: Any, path: str = "status") -> tuple[bool, str]:
    """(healthy, the status seen) of a health document: InfluxDB, Keycloak, IETF draft."""
    try:
        value = lookup(doc, path)
    except KeyError:
        return False, f"no {path!r} in the body"
    if isinstance(value, bool):
        return value, str(value).lower()
    text = str(value)
    return text.strip().lower() in HEALTHY, text[:40]


def emit_body(
    out: Families, errors: dict[str, str], params: Mapping[str, Any], body: bytes
) -> bool:
    """Health and JSON fields of a body; False when the health check says unhealthy."""
    wants_health = bool(params.get("health"))
    fields: Mapping[str, Any] = params.get("json_fields") or {}
    if not wants_health and not fields:
        return True
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        doc = None
        snippet = " ".join(body[:60].decode("utf-8", "replace").split())
        for name in fields:
            errors[f"json_fields.{name}"] = f"body is not JSON: {snippet!r}"
        if wants_health:
            out.add(HEALTH, 0)
            errors["http"] = f"unhealthy: body is not JSON: {snippet!r}"
            return False
    for name, path in fields.items():
        try:
            value = numeric(lookup(doc, str(path)))
        except KeyError:
            errors[f"json_fields.{name}"] = f"no field {path!r} in the body"
            continue
        if value is None:
            errors[f"json_fields.{name}"] = f"field {path!r} is not numeric"
            continue
        out.add(JSON_VALUE, value, str(name))
    if not wants_health:
        return True
    healthy, seen = health_of(doc, str(params.get("health_field") or "status"))
    out.add(HEALTH, 1 if healthy else 0)
    if not healthy:
        errors["http"] = f"unhealthy: status {seen}"
    return healthy
