"""Fixtures of the dashboard tests: YAML snippets to models, and the problems they raise."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetwatch.dashboards.loader import dashboard_from_text
from fleetwatch.dashboards.model import Dashboard
from fleetwatch.errors import ConfigError, ConfigErrors

REPO = Path(__file__).resolve().parents[2]
BUILTIN = REPO / "dashboards"

Load = Callable[[str], Dashboard]
Problems = Callable[[str], list[ConfigError]]


@pytest.fixture
def load() -> Load:
    def run(text: str) -> Dashboard:
        return dashboard_from_text(textwrap.dedent(text), "d.yaml")

    return run


@pytest.fixture
def problems(load: Load) -> Problems:
    def run(text: str) -> list[ConfigError]:
        with pytest.raises(ConfigErrors) as info:
            load(text)
        return info.value.errors

    return run


@pytest.fixture
def one_problem(problems: Problems) -> Callable[[str], ConfigError]:
    def run(text: str) -> ConfigError:
        errors = problems(text)
        assert len(errors) == 1, [e.message for e in errors]
        return errors[0]

    return run
