"""Garbage from a remote /proc never escapes a probe: property-based, over every collector.

Each collector is fed mutations of this machine's real files (and random text) at every path it
asks for; the runner must return (a collector may report failure) and never raise.  Only
ParseError / ValueError / IndexError / KeyError are accepted as "garbage"; a TypeError or
AttributeError escaping here is a parser bug.
"""

from __future__ import annotations

import functools
import glob
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetwatch.exporters.host.collectors import Collector, all_collectors
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.snapshot import Snapshot
from mutations import mutated_text

OPTS = Options()
COLLECTORS = all_collectors()


def _concrete(pattern: str) -> str:
    """A path the pattern matches, for collectors whose sources are absent here."""
    return re.sub(r"\[[^]]*\]", "0", pattern).replace("*", "0").replace("?", "0")


@functools.cache
def _frozen_sources(name: str) -> tuple[tuple[str, str], ...]:
    """Read once per session: live /proc changes between examples, which Hypothesis would
    (rightly) call flaky."""
    collector = next(c for c in COLLECTORS if c.name == name)
    return tuple(sorted(_real_sources(collector, fill_missing=True).items()))


def _real_sources(c: Collector, fill_missing: bool) -> dict[str, str]:
    """This machine's files for the collector; absent ones get a stand-in when asked."""
    files: dict[str, str] = {}
    for pattern in c.files(OPTS):
        paths = sorted(glob.glob(pattern))[:8] or [_concrete(pattern)]
        for path in paths:
            try:
                with open(path, errors="replace") as fh:
                    files[path] = fh.read(65536)
            except OSError:
                if fill_missing:
                    files[path] = "1 2 3\nname value\n"
    return files


tokens = st.sampled_from(
    [
        "",
        " ",
        "\n",
        ":",
        "-1",
        "0",
        "18446744073709551616",
        "nan",
        "inf",
        "1e999",
        "abc",
        "\x00",
        "\t",
        "kB",
        "0x1f",
        "(",
        ")",
        "=",
        "cpu",
        "==>",
        "é",
        "9" * 40,
    ]
)


def mutated(text: str) -> st.SearchStrategy[str]:
    return mutated_text(text, tokens)


@pytest.mark.parametrize("collector", COLLECTORS, ids=lambda c: c.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_garbage_never_escapes(collector: Collector, data: st.DataObject) -> None:
    real = dict(_frozen_sources(collector.name))
    files = {p: data.draw(mutated(t), label=p) for p, t in real.items()}
    commands = {k: data.draw(st.text(max_size=300), label=k) for k in collector.commands(OPTS)}
    result = run_collectors([collector], Snapshot(files, commands), OPTS, "garbage-host")
    success = result.families.get("node_scrape_collector_success", {"collector": collector.name})
    assert success in (0.0, 1.0)
    if success == 0.0 and collector.name not in result.absent:
        assert result.errors[collector.name]  # a reason, not an empty string


@pytest.mark.parametrize("collector", COLLECTORS, ids=lambda c: c.name)
def test_real_local_sources_parse(collector: Collector) -> None:
    """This machine's own files parse without error in every collector (commands aside)."""
    if collector.commands(OPTS):
        pytest.skip("needs command output: covered by the live tests")
    result = run_collectors(
        [collector], Snapshot(_real_sources(collector, fill_missing=False), {}), OPTS
    )
    assert result.errors == {}
