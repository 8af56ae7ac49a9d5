"""What every provider call goes through: a concurrency cap, the breaker, and the metrics.

A call that cannot start at once is refused (`Overloaded`) rather than queued: a page
waiting for a slot would be late, and the original numbers are always a valid answer.
The cap is checked before the breaker so that a refused call never consumes the
half-open probe.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from proxy.logs import log_event
from proxy.metrics import BREAKER_STATE, PROVIDER_CALLS, PROVIDER_LATENCY, child
from proxy.providers.breaker import STATE_CODES, Breaker
from proxy.providers.errors import BreakerOpen, Overloaded, ProviderError, ProviderRejected


@dataclass
class Outcome:
    """Filled by the client for calls that succeed at the transport level."""

    status: str = "ok"
    """"ok", or "warning" when the provider answered but could not assign every number."""


class CallGuard:
    def __init__(self, provider: str, breaker: Breaker, max_concurrency: int) -> None:
        self._provider = provider
        self._breaker = breaker
        self._max = max_concurrency
        self._inflight = 0
        self._published = breaker.state
        self._gauge = BREAKER_STATE.labels(provider)
        self._gauge.set(STATE_CODES[breaker.state])

    def slot(self, endpoint: str) -> Call:
        """A call slot for `with`; raises `Refused` at once, records how the call ended."""
        if self._inflight >= self._max:
            self._count(endpoint, Overloaded.reason)
            raise Overloaded(f"{self._provider}: {self._max} calls in flight")
        if not self._breaker.allow():
            self._count(endpoint, BreakerOpen.reason)
            raise BreakerOpen(f"{self._provider}: breaker open")
        self._publish_state()
        self._inflight += 1
        return Call(self, endpoint)

    def _ended(self, call: Call, exc: BaseException | None) -> None:
        outcome = call.outcome
        if exc is None:
            self._breaker.record_success()
        elif isinstance(exc, ProviderRejected):
            self._breaker.record_success()  # the provider answered, and sanely
            outcome.status = exc.reason
        elif isinstance(exc, ProviderError):
            self._breaker.record_failure()
            outcome.status = exc.reason
        else:
            self._breaker.record_abandoned()
            outcome.status = "cancelled"
        self._inflight -= 1
        elapsed = time.perf_counter() - call.started
        child(PROVIDER_LATENCY, self._provider, call.endpoint).observe(elapsed)
        self._count(call.endpoint, outcome.status)
        self._publish_state()

    def _count(self, endpoint: str, status: str) -> None:
        child(PROVIDER_CALLS, self._provider, endpoint, status).inc()

    def _publish_state(self) -> None:
        state = self._breaker.state
        if state == self._published:
            return
        if state != "half_open":
            log_event(f"breaker_{state}", logging.WARNING, provider=self._provider)
        self._published = state
        self._gauge.set(STATE_CODES[state])


class Call:
    """One call holding a slot; a class rather than a generator-based context manager, as it
    wraps every page view's provider call."""

    __slots__ = ("_guard", "endpoint", "outcome", "started")

    def __init__(self, guard: CallGuard, endpoint: str) -> None:
        self._guard = guard
        self.endpoint = endpoint
        self.outcome = Outcome()
        self.started = time.perf_counter()

    def __enter__(self) -> Outcome:
        return self.outcome

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self._guard._ended(self, exc)
