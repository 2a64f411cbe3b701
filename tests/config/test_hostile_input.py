"""Hostile input files: each a clear file:line error in bounded time and memory, through every
loader (inventory, alerting.yaml, rules, dashboards) and `fleetwatch validate`, never a crash,
a hang or a traceback. The pytest timeouts are hang guards, not speed goals."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from commands import fleetwatch
from fleetwatch.config.inputs import MAX_BYTES, load_json, read_input
from fleetwatch.config.yamlpos import MAX_DEPTH, YamlLimitError, load_data, load_yaml
from fleetwatch.errors import ConfigError

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)  # 9**9 lols from 9 lines (past the limit at line 7)
MERGE_LAUGHS = "m0: &m0 {k: 1}\n" + "".join(
    f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}], k{i}: 1}}\n" for i in range(1, 12)
)
HOSTILE_YAML = {
    "laughs": (LAUGHS, 7, "aliases and merges expand this document past"),
    "merge-laughs": (MERGE_LAUGHS, None, "aliases and merges expand this document past"),
    "deep-flow": ("a: " + "[" * 20000 + "]" * 20000 + "\n", 1, f"nested deeper than {MAX_DEPTH}"),
    "deep-block": ("- " * 20000 + "x\n", 1, f"nested deeper than {MAX_DEPTH}"),
    "recursive": ("a: 1\nb: &b [*b]\n", 2, "a recursive alias"),
    "long-value": ("a: 1\nb: " + "x" * (2 * 1024 * 1024) + "\n", 2, "a value longer than"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(HOSTILE_YAML))
def test_both_yaml_loaders_refuse_with_the_line(name: str) -> None:
    text, line, message = HOSTILE_YAML[name]
    for load in (lambda: load_yaml(text, "h.yaml"), lambda: load_data(text, "h.yaml")):
        with pytest.raises(YamlLimitError) as err:
            load()
        assert message in err.value.detail
        if line is not None:
            assert err.value.line == line, err.value.message
        assert err.value.exit_code == 3


def test_reasonable_aliases_still_load() -> None:
    text = "defaults: &d {interval: 15s, labels: {team: ops}}\na: *d\nb: {<<: *d, extra: 1}\n"
    data = load_yaml(text, "ok.yaml").data
    assert data["b"] == {"interval": "15s", "labels": {"team": "ops"}, "extra": 1}
    assert load_data("- " * MAX_DEPTH + "x\n") is not None  # exactly at the limit


def test_text_checks_name_line_and_column(tmp_path: Path) -> None:
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"version: 1\nname: a\x00b\n")
    with pytest.raises(ConfigError, match=r"nul.yaml:2: contains a NUL byte at column 8$"):
        read_input(nul)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"version: 1\n\nname: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin.yaml:3: is not UTF-8 text: byte 0xe9 at col"):
        read_input(latin)
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(ConfigError, match=r"big.yaml: is larger than 64 MiB: not read"):
        read_input(big)
    with pytest.raises(ConfigError, match="invalid JSON: nested too deeply"):
        load_json("[" * 200_000 + "]" * 200_000, "deep.json")


_fw = functools.partial(fleetwatch, timeout=120)


@pytest.mark.timeout(300)
def test_every_loader_through_the_cli(tmp_path: Path) -> None:
    """The inventory check, build (dashboards, rules, alerting.yaml) and validate each say one
    clear line for each hostile file, and exit 3 (or 1 for validate's findings)."""
    for name, (text, _, message) in HOSTILE_YAML.items():
        inv = tmp_path / f"{name}.yaml"
        inv.write_text(text)
        run = _fw("inventory", "check", str(inv), cwd=tmp_path)
        assert run.returncode == 3, (name, run.stderr)
        assert message in run.stderr and "Traceback" not in run.stderr, (name, run.stderr)

    content = tmp_path / "content"
    (content / "dashboards").mkdir(parents=True)
    (content / "dashboards" / "bomb.yaml").write_text(LAUGHS)
    run = _fw("build", "--content", str(content), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 3 and "bomb.yaml:7: aliases and merges" in run.stderr, run.stderr
    (content / "dashboards" / "bomb.yaml").write_text("title: ok\npanels: []\n")
    (content / "rules").mkdir()
    (content / "rules" / "deep.yaml").write_text("- " * 5000 + "x\n")
    run = _fw("build", "--content", str(content), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 3 and "deep.yaml:1: nested deeper than" in run.stderr, run.stderr
    (content / "rules" / "deep.yaml").unlink()
    (content / "alerting.yaml").write_bytes(b"version: 1\x00\n")
    run = _fw("build", "--content", str(content), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 3 and "alerting.yaml:1: contains a NUL byte" in run.stderr, run.stderr

    brought = tmp_path / "brought"
    brought.mkdir()
    (brought / "deep.json").write_text('{"panels": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (brought / "laughs.rules.yml").write_text(LAUGHS)
    run = _fw("validate", str(brought), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "deep.json: error parse: invalid JSON: nested too deeply" in run.stdout, run.stdout
    assert "laughs.rules.yml:7: error parse: aliases and merges expand" in run.stdout, run.stdout
    assert "Traceback" not in run.stderr
