"""The sandbox's time: a real clock that tests can move forward, set, or freeze.

Every time the sandbox stores or answers comes from one `Clock`, passed in, so a
test can expire a number without waiting and compare exact `expiresAt` values.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Clock:
    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._frozen_at: float | None = None

    def __call__(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._source() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> None:
        self.set(self() + seconds)

    def set(self, at: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at = at
        else:
            self._offset = at - self._source()

    def freeze(self, frozen: bool) -> None:
        """Stop time where it is (it then moves only by `advance`/`set`), or let it run on."""
        now = self()
        self._frozen_at = now if frozen else None
        if not frozen:
            self.set(now)


def format_time(at: float) -> str:
    """UTC `YYYY-MM-DD HH:MM:SS`, the document's `expiresAt` format."""
    return time.strftime(TIME_FORMAT, time.gmtime(at))


def parse_time(text: str) -> float:
    """Read `YYYY-MM-DD HH:MM:SS` as UTC; ValueError otherwise."""
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=UTC).timestamp()
