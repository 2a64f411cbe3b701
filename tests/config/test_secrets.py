"""The inline-secrets check: named at their line, values never shown."""

from __future__ import annotations

import yaml

from fleetwatch.config.findings import Findings
from fleetwatch.config.secrets import check_secrets, secret_key
from fleetwatch.config.yamlpos import load_yaml


def _findings(text: str) -> Findings:
    return Findings("f.yaml", load_yaml(text, "f.yaml"))


def test_secrets_named_at_their_line_values_never_shown() -> None:
    text = "a:\n  b:\n    - {api_token: hunter2}\n  password_file: /x\nsecret: s3\n"
    found = _findings(text)
    doc = yaml.safe_load(text)
    check_secrets(doc, (), found, secret_key(frozenset({"secret", "token"})), "use {key}_file")
    messages = [e.message for e in found.error().errors]
    assert messages == [
        "f.yaml:3: inline secret 'api_token' is not allowed: use api_token_file (a.b[0].api_token)",
        "f.yaml:5: inline secret 'secret' is not allowed: use secret_file (secret)",
    ]
    assert not any("hunter2" in m or "s3" in m.split("(")[0][-3:] for m in messages)
