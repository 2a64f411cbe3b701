"""The JSON Schema document itself."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from fleetwatch.config.durations import parse_duration
from fleetwatch.inventory.loader import parse_size, schema


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _objects(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append((path, node))
        for key, value in node.items():
            found += _objects(value, f"{path}/{key}")
    return found


def test_closed_everywhere_except_labels_and_params() -> None:
    for path, obj in _objects(schema()):
        if path.endswith("/params"):
            assert "additionalProperties" not in obj  # each module's PARAMS_SCHEMA checks them
        elif path.endswith("/labels"):
            assert obj["additionalProperties"] == {"type": "string"}
        else:
            assert obj["additionalProperties"] is False, path


def test_parse_duration() -> None:
    assert parse_duration("15s") == 15
    assert parse_duration("1m30s") == 90
    assert parse_duration("2h") == 7200
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1d") == 86400
    assert parse_duration("0") == 0


def test_parse_size() -> None:
    assert parse_size(1024) == 1024
    assert parse_size("64GiB") == 64 * 2**30
    assert parse_size("2TB") == 2 * 10**12
    assert parse_size("1.5 KiB") == 1536
    assert parse_size("512mb") == 512 * 10**6
    assert parse_size("100") == 100
