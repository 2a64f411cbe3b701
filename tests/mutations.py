"""Kernel-shaped text broken the ways a lying or dying host breaks it, for hypothesis tests."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import strategies as st

KINDS = ("truncate", "replace", "insert", "random", "drop_lines")


@st.composite
def mutated_text(
    draw: st.DrawFn,
    text: str,
    tokens: st.SearchStrategy[str],
    kinds: Sequence[str] = KINDS,
    random_size: int = 200,
    edits: int = 6,
) -> str:
    """``text`` kept (kind ``keep``), truncated, with 1..``edits`` words replaced by or with
    ``tokens`` inserted, lines dropped, or replaced by random text."""
    kind = draw(st.sampled_from(list(kinds)))
    if kind == "keep":
        return text
    if kind == "random" or not text:
        return draw(st.text(max_size=random_size))
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "drop_lines":
        lines = text.splitlines(keepends=True)
        keep = draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
        return "".join(line for line, k in zip(lines, keep, strict=True) if k)
    words = re.split(r"(\s+)", text)
    for _ in range(draw(st.integers(1, edits))):
        i = draw(st.integers(0, len(words) - 1))
        if kind == "replace":
            words[i] = draw(tokens)
        else:
            words.insert(i, draw(tokens))
    return "".join(words)
