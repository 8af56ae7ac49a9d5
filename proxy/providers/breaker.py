"""A consecutive-failure circuit breaker: a pure state machine with an injectable clock.

    closed ──(N failures in a row)──▶ open ──(cool-down elapsed, next call)──▶ half_open
      ▲                                ▲                                         │
      └────────────(probe succeeds)────┼──────────────(probe fails)──────────────┘

While open, calls are refused without touching the network, so an outage costs pages
nothing. After the cool-down one call goes through as a probe; the others keep being
refused until it reports. A probe that ends without a verdict (cancelled) lets the next
call probe at once rather than wedging the breaker half-open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "half_open", "open"]

STATE_CODES: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}
"""Values of the `dni_breaker_state` gauge."""


class Breaker:
    def __init__(
        self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1 or cooldown < 0:
            raise ValueError("a breaker needs failures >= 1 and cooldown >= 0")
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0

    @property
    def state(self) -> State:
        return self._state

    def allow(self) -> bool:
        """May a call go out now? Turns an open breaker half-open once the cool-down passed."""
        if self._state == "closed":
            return True
        if self._state == "open" and self._clock() - self._opened_at >= self._cooldown:
            self._state = "half_open"
            return True
        return False

    def record_success(self) -> None:
        # A late success from a call started before the breaker opened proves little;
        # only the probe may close an open breaker.
        if self._state != "open":
            self._state = "closed"
            self._failures = 0

    def record_failure(self) -> None:
        if self._state == "half_open":
            self._open()
        elif self._state == "closed":
            self._failures += 1
            if self._failures >= self._threshold:
                self._open()

    def record_abandoned(self) -> None:
        """The call was cancelled before it could tell; a half-open probe is owed again."""
        if self._state == "half_open":
            self._state = "open"
            self._opened_at = self._clock() - self._cooldown

    def _open(self) -> None:
        self._state = "open"
        self._opened_at = self._clock()
        self._failures = 0
