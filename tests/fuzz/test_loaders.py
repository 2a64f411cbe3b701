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


_K8S = ["apiVersion: v1\n", "kind: ConfigMap\n", "kind: PrometheusRule\n", "kind: List\n",
        "data:\n", "  a.json: |\n", "    {\"panels\": [\n", "spec:\n", "  groups:\n", "items:\n",
        "---\n", "groups:\n", "- name: g\n", "  rules:\n", "  - alert: A\n", "    expr: up\n",
        "    annotations: {summary: '{{ $labels.x }}'}\n"]  # fmt: skip


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@FUZZ
@given(text=st.lists(st.sampled_from(_K8S) | _YAML, max_size=14).map("".join))
def test_validate_reads_any_file_into_items_or_findings(
    suffix: str, text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from fleetwatch.validate import sources

    path = tmp_path_factory.mktemp("v") / f"f{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    items, findings = sources.load(path, None, named=True)
    assert items or findings  # a named file is never silently passed over
    for f in findings:
        assert f.file == str(path) and f.message


_PROMQL = st.lists(
    st.sampled_from(
        [
            "sum",
            " by (a)",
            "(",
            ")",
            "rate(",
            "x_total",
            "[5m]",
            "up",
            " == ",
            " bool ",
            "1",
            "count(",
            "histogram_quantile(0.9, ",
            "x_bucket",
            ",",
            '{a=~"b"}',
            " or ",
            "vector(0)",
            "absent(",
            " offset 1h",
            "topk(3, ",
            " < ",
            "label_replace(",
            '"d"',
            " / on(a) ",
        ]
    ),
    max_size=16,
).map("".join)


@FUZZ
@given(expr=_PROMQL)
def test_semantic_checks_answer_any_expression(expr: str) -> None:
    from fleetwatch.validate import rule_checks, semantics

    assert all(
        isinstance(r, str) for r, _ in semantics.check_expr(expr, semantics.Context("panel"))
    )
    rule = {"alert": "A", "expr": expr, "annotations": {"summary": "{{ $labels.a }}"}}
    data = {"groups": [{"name": "g", "rules": [rule]}]}
    found = rule_checks.check_rules(
        rule_checks.rules_of("f.yml", data, lambda key: 1), semantics.Context("alert")
    )
    assert all(f.file == "f.yml" for f in found)
