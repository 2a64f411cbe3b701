"""The 24-column grid: explicit positions kept, the rest auto-placed without overlap."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from fleetwatch.dashboards.layout import COLUMNS, DEFAULT_SIZES, Box, Request, place
from fleetwatch.dashboards.model import Grid


def req(kind: str = "stat", **grid: int) -> Request:
    return Request(kind, Grid(**grid), kind)


def test_auto_panels_go_left_to_right_then_down():
    boxes, problems = place([req("timeseries"), req("timeseries"), req("timeseries")])
    assert not problems
    assert boxes == [Box(0, 0, 12, 8), Box(12, 0, 12, 8), Box(0, 8, 12, 8)]


def test_default_sizes_per_type():
    for kind, (w, h) in DEFAULT_SIZES.items():
        (box,), _ = place([req(kind)])
        assert (box.w, box.h) == (w, h)


def test_only_size_given():
    (box,), _ = place([req("stat", w=3, h=2)])
    assert box == Box(0, 0, 3, 2)


def test_explicit_positions_are_honoured_and_avoided():
    boxes, problems = place(
        [req("stat"), req("table", x=0, y=0, w=24, h=5), req("stat"), req("stat", x=6, y=9)]
    )
    assert not problems
    assert boxes[1] == Box(0, 0, 24, 5)
    assert boxes[3] == Box(6, 9, 6, 4)
    assert boxes[0] == Box(0, 5, 6, 4)
    assert boxes[2] == Box(6, 5, 6, 4)


def test_row_starts_below_everything_before_it():
    boxes, _ = place([req("timeseries", w=12, h=8), req("stat"), req("row"), req("stat")])
    assert boxes[2] == Box(0, 8, 24, 1)
    assert boxes[3] == Box(0, 9, 6, 4)


def test_overlap_is_a_problem_naming_both():
    requests = [
        Request("stat", Grid(0, 0, 12, 4), "panel 'A'"),
        Request("stat", Grid(11, 3, 4, 4), "panel 'B'"),
    ]
    _, problems = place(requests)
    (problem,) = problems
    assert problem.index == 1
    assert "panel 'B'" in problem.message and "panel 'A'" in problem.message


kinds = st.sampled_from(sorted(DEFAULT_SIZES))
autos = st.builds(
    lambda k, w, h: Request(k, Grid(None, None, w, h), k),
    kinds,
    st.none() | st.integers(1, 24),
    st.none() | st.integers(1, 12),
)


@given(st.lists(autos, max_size=25), st.integers(0, 2**16))
def test_auto_layout_never_overlaps(requests, seed):
    # sprinkle a few non-overlapping explicit panels in
    rng = random.Random(seed)
    explicit = [Request("stat", Grid(x, y, 4, 3), f"e{x}{y}") for x, y in ((0, 2), (12, 20))]
    mixed = list(requests)
    for e in explicit:
        mixed.insert(rng.randint(0, len(mixed)), e)
    boxes, problems = place(mixed)
    assert not problems
    for i, a in enumerate(boxes):
        assert a.x >= 0 and a.x + a.w <= COLUMNS
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    for e in explicit:
        assert boxes[mixed.index(e)] == Box(e.grid.x, e.grid.y, 4, 3)  # type: ignore[arg-type]
