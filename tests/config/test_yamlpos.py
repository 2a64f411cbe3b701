"""yamlpos: data plus the line of every key and item."""

from __future__ import annotations

import pytest

from fleetwatch.config.yamlpos import format_path, load_yaml
from fleetwatch.errors import ConfigError

TEXT = """\
a: 1
b:
  - x
  -
    c: 2
    d: [3, 4]
e: {f: g}
"""


def test_lines_of_keys_and_items() -> None:
    doc = load_yaml(TEXT, "t.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": 2, "d": [3, 4]}], "e": {"f": "g"}}
    assert doc.line(()) == 1
    assert doc.line(("a",)) == 1
    assert doc.line(("b", 0)) == 3
    assert doc.line(("b", 1)) == 5  # the item starts at its first key
    assert doc.line(("b", 1, "d", 1)) == 6
    assert doc.line(("e", "f")) == 7
    # unknown paths fall back to the nearest known ancestor
    assert doc.line(("b", 1, "missing", 3)) == 5


def test_empty_document() -> None:
    doc = load_yaml("# only a comment\n", "t.yaml")
    assert doc.data is None
    assert doc.line(("x",)) == 1


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "YAML syntax error"),
        ("a: 1\n\tb: 2\n", 2, "YAML syntax error"),
        ("a: 1\n---\nb: 2\n", 2, "expected a single document"),
        ("a: *nope\n", 1, "found undefined alias"),
        ("a:\n  b: 1\n  b: 2\n", 3, "duplicate key 'b' (first defined on line 2)"),
    ],
)
def test_errors_carry_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "t.yaml")
    assert info.value.file == "t.yaml"
    assert info.value.line == line
    assert fragment in info.value.message
    assert info.value.message.startswith(f"t.yaml:{line}: ")


def test_merge_keys_are_not_duplicates() -> None:
    doc = load_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n", "t.yaml")
    assert doc.data["other"] == {"x": 3, "y": 2}
    assert doc.line(("other", "x")) == 4
    assert doc.line(("other", "y")) == 1  # where the merged value is written


def test_recursive_alias_is_refused() -> None:
    """Data that contains itself would send every walk after the loader into a loop."""
    with pytest.raises(ConfigError, match=r"^t.yaml:2: a recursive alias"):
        load_yaml("b: 1\na: &a [1, *a]\n", "t.yaml")


def test_format_path() -> None:
    assert format_path(("deployments", 0, "hosts", 2, "port")) == "deployments[0].hosts[2].port"
    assert format_path(()) == ""
    assert format_path((3, "a")) == "[3].a"
