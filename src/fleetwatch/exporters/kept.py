"""A kept connection: reused across probes, replaced once when the server dropped it.

PostgreSQL connections, SSH connections with their collection sessions and the local session
programs are all opened once and kept: opening costs far more than a probe (a forked backend
and a login; a key exchange; an interpreter start).  A kept one may have died since the last
probe (a server restart, an idle timeout, a killed session) without anybody noticing until it
is used.  ``reuse_or_replace`` is the one loop that handles that: use what is kept, and when
that fails with one of the errors that mean "dropped by the other side", once more on a new
one.  A connection that was new already is not retried: the server is down, not stale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def reuse_or_replace(
    acquire: Callable[[], Awaitable[tuple[T, bool]]],
    use: Callable[[T], Awaitable[R]],
    release: Callable[[T, BaseException | None], None],
    stale: tuple[type[BaseException], ...],
    retrying: Callable[[BaseException], None] | None = None,
) -> R:
    """``use`` what ``acquire`` gives: ``(item, reused)``, reused when it was kept from before.

    ``release(item, None)`` follows a success (keep it), ``release(item, exc)`` any failure
    (close it).  When a reused item fails with a ``stale`` error, ``retrying(exc)`` is told and
    ``use`` runs once more on a fresh ``acquire()``; errors of ``acquire`` itself propagate.
    """
    for attempt in (1, 2):
        item, reused = await acquire()
        try:
            result = await use(item)
        except stale as exc:
            release(item, exc)
            if not reused or attempt == 2:
                raise
            if retrying is not None:
                retrying(exc)
            continue
        except BaseException as exc:
            release(item, exc)
            raise
        release(item, None)
        return result
    raise AssertionError("unreachable")
