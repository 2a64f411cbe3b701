"""``build_dashboards``: discovery, folders, uids, determinism, and errors across files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fleetwatch.dashboards import build_dashboards, compile_dashboards, dashboard_uid
from fleetwatch.dashboards.pipeline import discover, folder_of, slug_of
from fleetwatch.errors import ConfigErrors

from .conftest import BUILTIN

STAT = "title: {title}\npanels:\n  - {{type: stat, title: s, unit: none, expr: up}}\n"


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_folders_slugs_and_uids(tmp_path: Path):
    src = tree(
        tmp_path / "src",
        {"top.yaml": STAT.format(title="Top"), "team/My Board.yaml": STAT.format(title="B")},
    )
    out = tmp_path / "out"
    written = build_dashboards(src, out)
    assert written == [out / "fleetwatch" / "top.json", out / "team" / "my-board.json"]
    data = json.loads((out / "team" / "my-board.json").read_text())
    assert data["uid"] == dashboard_uid("team", "my-board")
    assert data["uid"].startswith("fw-") and len(data["uid"]) <= 40
    assert dashboard_uid("team", "my-board") == dashboard_uid("team", "my-board")


def test_discovery_is_sorted_and_skips_hidden(tmp_path: Path):
    src = tree(
        tmp_path,
        {"b.yaml": "", "a/z.dashboard.py": "", ".hidden/x.yaml": "", "a/notes.py": ""},
    )
    assert [p.relative_to(src).as_posix() for p in discover(src)] == ["a/z.dashboard.py", "b.yaml"]
    assert folder_of(src, src / "b.yaml") == "fleetwatch"
    assert slug_of(Path("x/Fleet_Overview.dashboard.py")) == "fleet-overview"


def test_build_is_byte_identical(tmp_path: Path):
    first, second = tmp_path / "one", tmp_path / "two"
    a = build_dashboards(BUILTIN, first)
    b = build_dashboards(BUILTIN, second)
    assert [p.relative_to(first) for p in a] == [p.relative_to(second) for p in b]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
        text = x.read_text()
        assert text.endswith("}\n") and json.loads(text)


def test_errors_across_files_are_all_reported(tmp_path: Path):
    src = tree(
        tmp_path / "src",
        {
            "a.yaml": "title: A\npanels:\n  - {type: timeseries, title: t, expr: up}\n",
            "b.yaml": "title: [\n",
            "c.yaml": "title: C\npanels:\n  - {type: pie3d, title: p}\n",
            "d.dashboard.py": "raise ValueError('no')\n",
        },
    )
    with pytest.raises(ConfigErrors) as info:
        build_dashboards(src, tmp_path / "out")
    where = [(Path(e.file).name, e.line) for e in info.value.errors]
    assert where == [("a.yaml", 3), ("b.yaml", 2), ("c.yaml", 3), ("d.dashboard.py", 1)]
    assert not (tmp_path / "out").exists()  # nothing written when anything is wrong


def test_duplicate_uid_and_title(tmp_path: Path):
    src = tree(
        tmp_path / "src",
        {
            "f/a.yaml": "uid: same\n" + STAT.format(title="One"),
            "f/b.yaml": "uid: same\n" + STAT.format(title="one"),
        },
    )
    with pytest.raises(ConfigErrors) as info:
        compile_dashboards(src)
    messages = [e.message for e in info.value.errors]
    assert any("duplicate uid 'same'" in m for m in messages)
    assert any("duplicate title 'one' in folder 'f'" in m for m in messages)


def test_grafanalib_example_goes_through_the_same_pipeline(tmp_path: Path):
    src = tmp_path / "src"
    shutil.copytree(BUILTIN / "examples", src / "examples")
    (path,) = build_dashboards(src, tmp_path / "out")
    data = json.loads(path.read_text())
    assert data["schemaVersion"] >= 39
    assert data["uid"] == dashboard_uid("examples", "custom")
    assert data["templating"]["list"][0]["name"] == "datasource"
    assert {p["type"] for p in data["panels"]} == {"stat", "timeseries"}
