"""Which slots of a pool are held, and until when: O(log n) per assignment at any pool size.

Slots never used come first, then slots given back, oldest first. A slot is
given back when its expiry passes; expiries sit in a heap and are collected
lazily, when a slot is next asked for. Extending a hold pushes a new heap entry;
the old one is recognised as stale because it no longer matches the slot's expiry.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable


class Allocator:
    def __init__(self, slots: int) -> None:
        self._slots = slots
        self._fresh = 0
        self._free: deque[int] = deque()
        self._expiry: dict[int, float] = {}
        self._heap: list[tuple[float, int]] = []

    def take(self, now: float) -> int | None:
        """A slot nobody holds at `now`, or None when the pool is exhausted.

        The caller then holds it with `hold(slot, until)`.
        """
        self._collect(now)
        if self._fresh < self._slots:
            self._fresh += 1
            return self._fresh - 1
        return self._free.popleft() if self._free else None

    def hold(self, slot: int, until: float) -> None:
        """Hold a slot until `until` (a time at or before now gives it back)."""
        self._expiry[slot] = until
        heapq.heappush(self._heap, (until, slot))

    def restore(self, used: int, live: Iterable[tuple[int, float]]) -> None:
        """Start over from stored state: slots below `used` have served, `live` are held."""
        self._fresh = min(used, self._slots)
        self._expiry = dict(live)
        self._heap = [(until, slot) for slot, until in self._expiry.items()]
        heapq.heapify(self._heap)
        self._free = deque(s for s in range(self._fresh) if s not in self._expiry)

    def _collect(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            until, slot = heapq.heappop(heap)
            if self._expiry.get(slot) == until:
                del self._expiry[slot]
                self._free.append(slot)
