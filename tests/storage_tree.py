"""The storage-server fixture tree (tests/fixtures/storage) as the session would read it, and a
hypothesis check shared by the tests of the collectors that read it."""

from __future__ import annotations

import contextlib
import glob
import os
from pathlib import Path

from hypothesis import strategies as st

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Collector, NoData, Options
from fleetwatch.exporters.host.snapshot import Snapshot
from mutations import mutated_text

TREE = Path(__file__).resolve().parent / "fixtures" / "storage"


def tree_files(collector: Collector, root: Path = TREE) -> dict[str, str]:
    """What the session reads for ``collector`` under ``root``: its patterns' matches, a
    directory as empty text (as ``head`` and the perl reader give it), by standard path."""
    files: dict[str, str] = {}
    for pattern in collector.files(Options()):
        for path in sorted(glob.glob(f"{root}{pattern}")):
            key = "/" + os.path.relpath(path, root)
            files[key] = "" if os.path.isdir(path) else Path(path).read_text()
    return files


def collect(collector: Collector, files: dict[str, str], opts: Options | None = None) -> Families:
    out = Families()
    collector.collect(Snapshot(files=dict(files)), out, opts or Options())
    return out


_TOKENS = st.sampled_from(
    ["", " ", "\n", ":", "-1", "0", "0x", "0xffffffffffffffff", "18446744073709551616", "nan",
     "inf", "1e999", "abc", "\x00", "\t", "1.5k", "9M/sec", "N/A (no PMA)", "name type data",
     "[", "]:", "é", "9" * 40, "-"]
)  # fmt: skip


def mutated(text: str) -> st.SearchStrategy[str]:
    """``text`` kept, truncated, with words replaced or inserted, lines dropped, or random."""
    kinds = ("keep", "truncate", "replace", "insert", "drop_lines", "random")
    return mutated_text(text, _TOKENS, kinds, random_size=120, edits=4)


def garbage_run(collector: Collector, data: st.DataObject) -> None:
    """Mutate a few of the fixture files of ``collector`` and drop a few: it either collects,
    finds no data, or raises ParseError -- never any other exception."""
    files = tree_files(collector)
    paths = sorted(files)
    for path in data.draw(
        st.lists(st.sampled_from(paths), max_size=4, unique=True), label="mutate"
    ):
        files[path] = data.draw(mutated(files[path]), label=path)
    for path in data.draw(st.lists(st.sampled_from(paths), max_size=2, unique=True), label="drop"):
        files.pop(path, None)
    with contextlib.suppress(ParseError, NoData):
        collect(collector, files)
