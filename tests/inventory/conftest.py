"""Fixtures of the inventory tests: a fixed collector registry and small-file helpers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetwatch.errors import ConfigError, ConfigErrors
from fleetwatch.exporters.host import collectors
from fleetwatch.inventory import Inventory, load_inventory

# node_exporter names; the real registry is filled by other modules, tests must not depend on it
COLLECTORS = [
    "arp",
    "conntrack",
    "cpu",
    "diskstats",
    "filesystem",
    "hwmon",
    "loadavg",
    "mdadm",
    "meminfo",
    "netdev",
    "stat",
    "textfile",
    "vmstat",
]


@pytest.fixture(autouse=True)
def fixed_collectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collectors, "collector_names", lambda: list(COLLECTORS))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty $HOME, so ``~`` paths never see the real one."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


Write = Callable[[str], Path]
Load = Callable[[str], Inventory]
Fail = Callable[[str], list[ConfigError]]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write dedented YAML to ``tmp_path/fleet.yaml`` (its first line is line 1)."""

    def _write(text: str) -> Path:
        path = tmp_path / "fleet.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load(write: Write) -> Load:
    def _load(text: str) -> Inventory:
        return load_inventory(write(text))

    return _load


@pytest.fixture
def fail(write: Write) -> Fail:
    """The findings of an invalid inventory (every one must name the file)."""

    def _fail(text: str) -> list[ConfigError]:
        path = write(text)
        with pytest.raises(ConfigErrors) as info:
            load_inventory(path)
        for error in info.value.errors:
            assert error.file == str(path)
            assert str(path) in error.message
        return info.value.errors

    return _fail
