"""Grafana's 24-column grid: explicit positions honoured, the rest placed in reading order.

``place(requests)`` returns one ``Box`` per request and the problems found (explicit panels
that overlap or run past the right edge).  Auto-placed panels go left to right, top to bottom,
each at the first free spot not before the previous auto-placed one, so they never overlap
anything.  A ``row`` is always full width, one unit high, below everything before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fleetwatch.dashboards.model import Grid

COLUMNS = 24

#: (w, h) of a panel whose size is not given
DEFAULT_SIZES: dict[str, tuple[int, int]] = {
    "stat": (6, 4),
    "gauge": (6, 6),
    "bargauge": (12, 8),
    "timeseries": (12, 8),
    "table": (24, 8),
    "heatmap": (12, 8),
    "state-timeline": (24, 6),
    "nodeGraph": (24, 12),
    "pie": (8, 8),
    "alertlist": (12, 8),
    "text": (24, 3),
    "row": (24, 1),
}
FALLBACK_SIZE = (12, 8)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def __str__(self) -> str:
        return f"x={self.x} y={self.y} w={self.w} h={self.h}"


@dataclass(frozen=True)
class Request:
    """One panel to place: its type, the grid it asks for and a name for messages."""

    type: str
    grid: Grid
    name: str


@dataclass(frozen=True)
class Problem:
    index: int  # the request the problem is about
    message: str


def size_of(request: Request) -> tuple[int, int]:
    if request.type == "row":
        return COLUMNS, 1
    dw, dh = DEFAULT_SIZES.get(request.type, FALLBACK_SIZE)
    w = request.grid.w if request.grid.w is not None else dw
    h = request.grid.h if request.grid.h is not None else dh
    return min(max(w, 1), COLUMNS), max(h, 1)


def place(requests: Sequence[Request]) -> tuple[list[Box], list[Problem]]:
    boxes: dict[int, Box] = {}
    problems: list[Problem] = []
    for i, req in enumerate(requests):
        if req.grid.x is None or req.grid.y is None:
            continue
        w, h = size_of(req)
        box = Box(req.grid.x, req.grid.y, w, h)
        if box.x + box.w > COLUMNS:
            problems.append(
                Problem(i, f"{req.name} at {box} ends at column {box.x + box.w}, past {COLUMNS}")
            )
        for j, other in sorted(boxes.items()):
            if box.overlaps(other):
                problems.append(
                    Problem(
                        i,
                        f"{req.name} at {box} overlaps {requests[j].name} at {other}",
                    )
                )
        boxes[i] = box
    cursor_x, cursor_y, bottom = 0, 0, 0
    for i, req in enumerate(requests):
        if i in boxes:
            bottom = max(bottom, boxes[i].y + boxes[i].h)
            continue
        w, h = size_of(req)
        if req.type == "row":
            cursor_x, cursor_y = 0, max(cursor_y, bottom)
        box = _first_fit(list(boxes.values()), w, h, cursor_x, cursor_y)
        boxes[i] = box
        cursor_x, cursor_y = box.x + box.w, box.y
        bottom = max(bottom, box.y + box.h)
        if req.type == "row":
            cursor_x, cursor_y = 0, box.y + 1
    return [boxes[i] for i in range(len(requests))], problems


def _first_fit(taken: list[Box], w: int, h: int, cursor_x: int, cursor_y: int) -> Box:
    y = cursor_y
    while True:
        start = cursor_x if y == cursor_y else 0
        for x in range(start, COLUMNS - w + 1):
            box = Box(x, y, w, h)
            if not any(box.overlaps(t) for t in taken):
                return box
        y += 1
