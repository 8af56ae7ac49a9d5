"""Which provider visit a visitor is in, when their cookie cannot say yet.

The visit cookie is set on the response that carries the provider's answer. A page
view recorded in the background (a page with no configured phone) answers after its
response left, so the next page arrives without the cookie. This memory, keyed by the
proxy's own first-party visitor id, carries the visit over; and a view that starts while
the visitor's first view is still in flight waits for it (within its own deadline)
instead of opening a second visit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from cachetools import TTLCache

VISIT_TTL = 30 * 60
"""Optico's visit cookie lives 30 minutes; a visit is not worth remembering longer."""


class Visits:
    def __init__(self, maxsize: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self._known: TTLCache[str, str] = TTLCache(maxsize, VISIT_TTL, timer=clock)
        self._first: dict[str, asyncio.Future[str | None]] = {}

    def get(self, key: str) -> str | None:
        return self._known.get(key)

    def remember(self, key: str, visit: str) -> None:
        self._known[key] = visit

    async def wait_first(self, key: str, timeout: float) -> str | None:
        """The visit the visitor's in-flight first view opens, if one is in flight."""
        first = self._first.get(key)
        if first is None:
            return None
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(first)
        except TimeoutError:
            return None

    def begin_first(self, key: str) -> asyncio.Future[str | None]:
        first: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._first[key] = first
        return first

    def end_first(self, key: str, first: asyncio.Future[str | None], visit: str | None) -> None:
        if self._first.get(key) is first:
            del self._first[key]
        if not first.done():
            first.set_result(visit)
