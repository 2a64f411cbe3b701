"""Inline secrets are refused wherever they stand in an input file; their values never echoed.

Each file kind says which keys hold secrets and how to give them instead (``*_env`` /
``*_file`` in the inventory, ``*_file`` in alerting.yaml).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetwatch.config.findings import Findings
from fleetwatch.config.yamlpos import JsonPath

#: ``is_secret(path_of_the_mapping, key)``: whether ``key`` there would hold a secret inline
IsSecret = Callable[[JsonPath, str], bool]


def secret_key(words: frozenset[str], suffixes: tuple[str, ...] = ()) -> IsSecret:
    """A key is a secret when it is one of ``words``, or ends with ``_<word>`` or a suffix."""
    ends = (*(f"_{w}" for w in words), *suffixes)

    def is_secret(path: JsonPath, key: str) -> bool:
        k = key.lower()
        return k in words or k.endswith(ends)

    return is_secret


def check_secrets(
    value: Any, path: JsonPath, findings: Findings, is_secret: IsSecret, instead: str
) -> None:
    """A finding at every inline secret below ``value``: ``inline secret 'KEY' is not allowed:
    <instead>`` (``instead`` may name the key as ``{key}``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and is_secret(path, key):
                message = f"inline secret {key!r} is not allowed: {instead.format(key=key)}"
                findings.add((*path, key), message)
            else:
                check_secrets(item, (*path, str(key)), findings, is_secret, instead)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_secrets(item, (*path, i), findings, is_secret, instead)
