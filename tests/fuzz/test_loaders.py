"""Every loader of user input, fuzzed: whatever the text, the answer is a ConfigError (or a
valid result), never another exception, a hang or a crash. ``make fuzz`` runs these with many
more examples (``HYPOTHESIS_PROFILE=fuzz``); ``make test`` runs the default profile."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetwatch.config.inputs import decode_text, load_json
from fleetwatch.config.yamlpos import load_data, load_yaml
from fleetwatch.dashboards.loader import dashboard_from_text
from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.inventory import inventory_from_text
from fleetwatch.provisioning.alertmanager import alerting_from_text

#: per test, not the global profile: the other hypothesis tests keep their own settings
FUZZ = settings(
    max_examples=3000 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

#: YAML's structure characters, often, and anything else, sometimes
_YAML = st.text(
    st.sampled_from([*"-:?[]{},&*!|>'\"#%@` \n\t<", "\x00", "\ufeff"])
    | st.characters(codec="utf-8"),
    max_size=300,
)
#: the same around real keys, so the checks after the parser are reached too
_KEYS = ["version: 1\n", "deployments:\n", "  - name: d\n", "    provider: p\n", "hosts:\n",
         "receivers:\n", "routing: {critical: a, warning: a, info: null}\n", "title: t\n",
         "panels:\n", "  - type: stat\n", "    expr: up\n", "&a [*a]\n", "<<: *a\n"]  # fmt: skip
_STRUCTURED = st.lists(st.sampled_from(_KEYS) | _YAML, max_size=12).map("".join)

LOADERS: dict[str, Callable[[str], Any]] = {
    "yaml": lambda t: load_yaml(t, "f.yaml"),
    "data": lambda t: load_data(t, "f.yaml"),
    "inventory": lambda t: inventory_from_text(t, "f.yaml", check_files=False),
    "alerting": lambda t: alerting_from_text(t, "f.yaml"),
    "dashboard": lambda t: dashboard_from_text(t, "f.yaml"),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(text=_STRUCTURED)
def test_a_loader_answers_any_text_with_a_config_error(name: str, text: str) -> None:
    # load_data (build outputs, files validate reads) says syntax errors as YAMLError
    allowed = (ConfigError, ConfigErrors, *((yaml.YAMLError,) if name == "data" else ()))
    with contextlib.suppress(allowed):
        LOADERS[name](text)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_bytes_decode_or_are_named(raw: bytes) -> None:
    try:
        text = decode_text(raw, "f.yaml")
    except ConfigError as exc:
        assert exc.line is not None and exc.line >= 1
    else:
        assert "\x00" not in text


@FUZZ
@given(text=st.text(st.sampled_from(list('[]{}",:0123456789 truefalsn')), max_size=300))
def test_json_answers_any_text(text: str) -> None:
    with contextlib.suppress(ConfigError):
        load_json(text, "f.json")
