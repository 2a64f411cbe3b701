"""reuse_or_replace: a kept connection is reused, replaced once when it was dropped, and a
fresh one that fails is not retried (the server is down, not stale)."""

from __future__ import annotations

import pytest

from fleetwatch.exporters.kept import reuse_or_replace


class Dropped(ConnectionError):
    pass


class Pool:
    """Hands out the kept item while it lasts, then new ones; records what happened."""

    def __init__(self, kept: list[str]) -> None:
        self.kept = kept
        self.new = 0
        self.released: list[tuple[str, str | None]] = []

    async def acquire(self) -> tuple[str, bool]:
        if self.kept:
            return self.kept.pop(), True
        self.new += 1
        return f"new{self.new}", False

    def release(self, item: str, exc: BaseException | None) -> None:
        self.released.append((item, None if exc is None else type(exc).__name__))


async def test_a_kept_item_is_used_and_kept() -> None:
    pool = Pool(["old"])

    async def use(item: str) -> str:
        return item.upper()

    assert await reuse_or_replace(pool.acquire, use, pool.release, (Dropped,)) == "OLD"
    assert pool.released == [("old", None)] and pool.new == 0


async def test_a_dropped_kept_item_is_replaced_once() -> None:
    pool = Pool(["old"])
    told: list[BaseException] = []

    async def use(item: str) -> str:
        if item == "old":
            raise Dropped("server closed the connection")
        return item

    result = await reuse_or_replace(pool.acquire, use, pool.release, (Dropped,), told.append)
    assert result == "new1"
    assert pool.released == [("old", "Dropped"), ("new1", None)]
    assert len(told) == 1


async def test_a_fresh_item_that_fails_is_not_retried() -> None:
    pool = Pool([])

    async def use(item: str) -> str:
        raise Dropped("refused")

    with pytest.raises(Dropped):
        await reuse_or_replace(pool.acquire, use, pool.release, (Dropped,))
    assert pool.released == [("new1", "Dropped")] and pool.new == 1


async def test_two_dropped_in_a_row_fail_and_other_errors_are_never_retried() -> None:
    pool = Pool(["second", "first"])

    async def dropped(item: str) -> str:
        raise Dropped(item)

    with pytest.raises(Dropped):
        await reuse_or_replace(pool.acquire, dropped, pool.release, (Dropped,))
    assert [item for item, _ in pool.released] == ["first", "second"]

    pool = Pool(["old"])

    async def bug(item: str) -> str:
        raise KeyError(item)

    with pytest.raises(KeyError):
        await reuse_or_replace(pool.acquire, bug, pool.release, (Dropped,))
    assert pool.released == [("old", "KeyError")] and pool.new == 0
