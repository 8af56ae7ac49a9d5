"""What every provider call goes through: a concurrency cap, the breaker, and the metrics.

A call that cannot start at once is refused (`Overloaded`) rather than queued: a page
waiting for a slot would be late, and the original numbers are always a valid answer.
The cap is checked before the breaker so that a refused call never consumes the
half-open probe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from proxy.logs import log_event
from proxy.metrics import BREAKER_STATE, PROVIDER_CALLS, PROVIDER_LATENCY
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
        self._publish_state()

    @asynccontextmanager
    async def slot(self, endpoint: str) -> AsyncIterator[Outcome]:
        """Hold a call slot; raises `Refused` at once, records how the call ended."""
        if self._inflight >= self._max:
            self._count(endpoint, Overloaded.reason)
            raise Overloaded(f"{self._provider}: {self._max} calls in flight")
        if not self._breaker.allow():
            self._count(endpoint, BreakerOpen.reason)
            raise BreakerOpen(f"{self._provider}: breaker open")
        self._publish_state()
        self._inflight += 1
        started = time.perf_counter()
        outcome = Outcome()
        try:
            yield outcome
        except ProviderRejected as exc:
            self._breaker.record_success()  # the provider answered, and sanely
            outcome.status = exc.reason
            raise
        except ProviderError as exc:
            self._breaker.record_failure()
            outcome.status = exc.reason
            raise
        except BaseException:
            self._breaker.record_abandoned()
            outcome.status = "cancelled"
            raise
        else:
            self._breaker.record_success()
        finally:
            self._inflight -= 1
            PROVIDER_LATENCY.labels(self._provider, endpoint).observe(time.perf_counter() - started)
            self._count(endpoint, outcome.status)
            self._publish_state()

    def _count(self, endpoint: str, status: str) -> None:
        PROVIDER_CALLS.labels(self._provider, endpoint, status).inc()

    def _publish_state(self) -> None:
        state = self._breaker.state
        if state != self._published and state != "half_open":
            log_event(f"breaker_{state}", logging.WARNING, provider=self._provider)
        self._published = state
        BREAKER_STATE.labels(self._provider).set(STATE_CODES[state])
