"""JSON-Schema errors in the one wording every loader uses."""

from __future__ import annotations

import yaml
from jsonschema import Draft202012Validator

from fleetwatch.config.findings import Findings
from fleetwatch.config.schema import schema_messages
from fleetwatch.config.yamlpos import load_yaml


def _findings(text: str) -> Findings:
    return Findings("f.yaml", load_yaml(text, "f.yaml"))


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["alpha", "beta"]},
        "port": {"type": "integer", "minimum": 1},
        "names": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$",
                  "x-name": "team name", "x-message": "must be lower-case letters"}},
    },
}  # fmt: skip


def _messages(text: str) -> list[str]:
    found = _findings(text)
    for error in Draft202012Validator(SCHEMA).iter_errors(yaml.safe_load(text)):
        for path, message in schema_messages(error):
            found.add(path, message)
    return [e.message for e in found.error().errors]


def test_schema_messages_one_wording() -> None:
    assert _messages("kind: alpah\nport: '80'\nnames: {Ops: 1}\nextra: 1\n") == [
        "f.yaml:1: must be one of 'alpha', 'beta'; got 'alpah'; did you mean 'alpha'? (kind)",
        "f.yaml:2: must be an integer, got a string ('80') (port)",
        "f.yaml:3: team name 'Ops' must be lower-case letters (names.Ops)",
        "f.yaml:4: unknown key 'extra'; expected one of: kind, names, port (extra)",
    ]
    assert _messages("port: 0\n") == [
        "f.yaml:1: missing required key 'kind'",
        "f.yaml:1: must be at least 1; got 0 (port)",
    ]
