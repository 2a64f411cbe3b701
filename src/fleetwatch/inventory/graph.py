"""The ``depends_on`` graph of an inventory: cycle detection, without recursion."""

from __future__ import annotations

from collections.abc import Mapping


def cycles(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """The cycles a depth-first search meets, one per back edge (so every loop of the graph
    is reported at least once), each as its nodes from where the search entered it.
    Iterative: a chain of thousands of targets cannot exhaust the stack."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []
    for start in graph:
        if start in state:
            continue
        path: list[str] = [start]
        stack = [iter(graph.get(start, []))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                found.append(path[path.index(nxt) :])
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, [])))
    return found
