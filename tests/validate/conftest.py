"""Fixtures of the validate tests."""

from __future__ import annotations

import pytest

from fleetwatch.validate.promtool import Promtool
from servers import require


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    require("promtool")
    return Promtool.find()
