"""The JSON Schema document itself."""

from __future__ import annotations

from pathlib import Path
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
        elif path.endswith("/scale/properties/pins"):  # name -> exporter id
            assert obj["additionalProperties"] == {"type": "string", "minLength": 1}
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


def test_service_params_are_checked_from_data_without_exporter_code() -> None:
    """Each service module's params schema is a JSON file beside it, the same the module
    uses; the inventory reads it as data and imports no service module to check params."""
    import json
    import subprocess
    import sys

    from fleetwatch.exporters import registry

    services = Path(__file__).resolve().parents[2] / "src/fleetwatch/exporters/services"
    for name in registry.SERVICE_MODULES:
        module = __import__(f"fleetwatch.exporters.services.{name}", fromlist=["PARAMS_SCHEMA"])
        data = json.loads((services / f"{name}.params.json").read_text())
        assert data == module.PARAMS_SCHEMA, name
    code = (
        "import sys\n"
        "from fleetwatch.errors import ConfigErrors\n"
        "from fleetwatch.inventory import inventory_from_text\n"
        "text = 'version: 1\\ndeployments:\\n- name: d\\n  provider: p\\n  services:\\n"
        "  - {name: r, module: redis, address: 127.0.0.1:6379, params: {check_keyz: [a]}}\\n'\n"
        "try:\n    inventory_from_text(text, 'f.yaml')\nexcept ConfigErrors as e:\n"
        "    print(e.errors[0].message)\n"
        "print(sorted(m for m in sys.modules if m.startswith('fleetwatch.exporters.services')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    message, imported = run.stdout.splitlines()
    assert message.startswith("f.yaml:6: redis params: Additional properties are not allowed")
    assert imported == "[]"
