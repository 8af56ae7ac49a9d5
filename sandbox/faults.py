"""Injected faults on the provider endpoints, set through `/sandbox/faults`.

A request to a faulty endpoint is counted, then waits `latency_ms`, then meets
the first fault that applies, in this order:

| fault      | what the client sees                                                   |
|------------|------------------------------------------------------------------------|
| hang       | no answer; the connection closes when faults are cleared or at stop    |
| close      | the connection closes without an answer                                |
| malformed  | HTTP 200, `application/json`, a body that is not JSON                  |
| error_rate | that share of requests gets the system error (Optico: SYSTEM_ERROR, 500) |
| exhausted  | every pool acts empty: Optico WARNING, Freespee "No tracking number..." |

Faulted requests other than `exhausted` (and plain latency) never reach the
platform, so nothing is recorded for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

ENDPOINTS = ("ospView", "ospClick", "ospExpiration", "freespee")
MALFORMED_BODY = b'{"status": "OK", "visitId": 7, "surtaxPhones": {"04'
_FLAGS = ("hang", "close", "malformed", "exhausted")


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    hang: bool = False
    close: bool = False
    malformed: bool = False
    exhausted: bool = False
    endpoints: frozenset[str] = field(default=frozenset(ENDPOINTS))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "endpoints": sorted(self.endpoints)}


NO_FAULTS = Faults()


def parse_faults(data: object) -> Faults:
    """Faults from the JSON of POST /sandbox/faults; ValueError naming the bad key."""
    if not isinstance(data, Mapping):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(data) - {*Faults.__dataclass_fields__})
    if unknown:
        raise ValueError(
            f"{unknown[0]}: unknown fault; known: {sorted(Faults.__dataclass_fields__)}"
        )
    latency = data.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise ValueError("latency_ms: expected an integer >= 0")
    rate = data.get("error_rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError("error_rate: expected a number between 0 and 1")
    flags = {name: data.get(name, False) for name in _FLAGS}
    if any(not isinstance(value, bool) for value in flags.values()):
        raise ValueError(f"{', '.join(_FLAGS)}: expected true or false")
    return Faults(latency, float(rate), endpoints=_endpoints(data.get("endpoints")), **flags)


def _endpoints(value: object) -> frozenset[str]:
    if value is None:
        return frozenset(ENDPOINTS)
    if not isinstance(value, list) or not set(value) <= set(ENDPOINTS) or not value:
        raise ValueError(f"endpoints: expected a non-empty list of {list(ENDPOINTS)}")
    return frozenset(value)


class FaultInjector:
    """The faults in force and the requests counted; one per sandbox."""

    def __init__(self, seed: int) -> None:
        self.faults = NO_FAULTS
        self.counts = dict.fromkeys(ENDPOINTS, 0)
        self._rng = random.Random(f"{seed}:faults")
        self._release = asyncio.Event()
        self._stopping = False

    def set(self, faults: Faults) -> None:
        self.clear()
        self.faults = faults

    def clear(self) -> None:
        """Lift every fault; requests left hanging get their connection closed."""
        self.faults = NO_FAULTS
        self._release.set()
        self._release = asyncio.Event()

    def stop(self) -> None:
        """The sandbox is stopping: requests still waiting get their connection closed."""
        self._stopping = True
        self.clear()

    def reset(self) -> None:
        self.clear()
        self.counts = dict.fromkeys(ENDPOINTS, 0)

    async def apply(
        self, endpoint: str, request: web.Request, system_error: Callable[[], web.Response]
    ) -> web.Response | bool:
        """Count the request and play the faults: an answer to send, or whether pools act empty."""
        self.counts[endpoint] += 1
        faults = self.faults
        if endpoint not in faults.endpoints:
            return False
        release = self._release
        if faults.latency_ms:
            await _wait(release, faults.latency_ms / 1000)
        if self._stopping:
            return _close(request)
        if faults.hang:
            await release.wait()
            return _close(request)
        if faults.close:
            return _close(request)
        if faults.malformed:
            return web.Response(body=MALFORMED_BODY, content_type="application/json")
        if faults.error_rate and self._rng.random() < faults.error_rate:
            return system_error()
        return faults.exhausted


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Sleep, cut short when faults are cleared or the sandbox stops."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def _close(request: web.Request) -> web.Response:
    """Close the connection; aiohttp then drops the response it can no longer send."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()
