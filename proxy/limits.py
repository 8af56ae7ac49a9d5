"""Server-side limits aiohttp does not give by default.

- A request-header deadline: a connection whose header block is not complete
  `header_timeout` seconds after it opened (or after its first byte of a
  later request) is closed, so slowloris sockets cannot pile up. aiohttp arms
  no timer while a header block trickles in.
- A cap on open client connections: a connection over the cap is closed at once.
- A request-body cap counted while streaming (aiohttp's `client_max_size` only
  guards `request.read()`, which a streaming proxy never calls).
- A byte budget for pages held in memory while they are rewritten, so that many
  large pages at once cost a bounded amount of memory (`ByteBudget`).

The first two live in a `RequestHandler` subclass, the protocol aiohttp runs per
connection, installed through an `AppRunner` whose server builds it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from proxy import metrics


class BodyTooLarge(Exception):
    """The request body passed the configured cap (413)."""


class GuardedHandler(RequestHandler):
    """aiohttp's per-connection protocol plus a header deadline and a connection cap."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = manager
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if len(self._guard.connections) > self._guard.max_connections:
            metrics.CONNECTIONS_CLOSED.labels(reason="connection_limit").inc()
            self.force_close()
            return
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        idle = not self._busy()
        super().data_received(data)
        if self._busy():
            self._disarm()
        elif idle and data and self._header_timer is None:
            self._arm()  # the first bytes of a later request on a kept-alive connection

    def _busy(self) -> bool:
        """A request was parsed (queued or being handled), or the connection was upgraded."""
        return bool(self._messages) or self._request_in_progress or self._upgraded

    def _arm(self) -> None:
        self._header_timer = self._loop.call_later(self._guard.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if not self._busy():
            metrics.CONNECTIONS_CLOSED.labels(reason="header_timeout").inc()
            self.force_close()


class GuardedServer(web.Server):
    """An aiohttp low-level server whose connections run `GuardedHandler`."""

    def __init__(self, inner: web.Server, *, header_timeout: float, max_connections: int) -> None:
        # Same request handler, factory and handler options as the app's own server.
        super().__init__(
            inner.request_handler,
            request_factory=inner.request_factory,
            handler_cancellation=inner.handler_cancellation,
            loop=inner._loop,
            **inner._kwargs,
        )
        self.header_timeout = header_timeout
        self.max_connections = max_connections

    def __call__(self) -> RequestHandler:
        return GuardedHandler(self, loop=self._loop, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """`web.AppRunner` serving through `GuardedServer`."""

    __slots__ = ("_header_timeout", "_max_connections")

    def __init__(
        self, app: web.Application, *, header_timeout: float, max_connections: int, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self._header_timeout = header_timeout
        self._max_connections = max_connections

    async def _make_server(self) -> web.Server:
        inner = await super()._make_server()
        return GuardedServer(
            inner, header_timeout=self._header_timeout, max_connections=self._max_connections
        )


class ByteBudget:
    """Bytes that pages being rewritten may hold at once; takers wait in turn for room."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    @asynccontextmanager
    async def hold(self, wait: float) -> AsyncIterator[Hold]:
        """A holder that may take bytes for up to `wait` seconds; all given back on exit."""
        holder = Hold(self, asyncio.get_running_loop().time() + wait)
        try:
            yield holder
        finally:
            self._give_back(holder.held)

    async def _take(self, n: int, deadline: float) -> bool:
        if not self._waiters and self.used + n <= self.limit:
            self.used += n
            return True
        waiter = asyncio.get_running_loop().create_future()
        entry = (n, waiter)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except TimeoutError:
            self._abandon(entry)
            return False
        except BaseException:
            self._abandon(entry)
            raise
        return True

    def _abandon(self, entry: tuple[int, asyncio.Future[None]]) -> None:
        n, waiter = entry
        if entry in self._waiters:
            self._waiters.remove(entry)
        elif waiter.done() and not waiter.cancelled():
            self._give_back(n)  # granted just as the wait ended

    def _give_back(self, n: int) -> None:
        self.used -= n
        while self._waiters:
            n_next, waiter = self._waiters[0]
            if not waiter.done() and self.used + n_next > self.limit:
                break
            self._waiters.popleft()
            if not waiter.done():
                self.used += n_next
                waiter.set_result(None)


class Hold:
    """One page's share of a `ByteBudget`."""

    def __init__(self, budget: ByteBudget, deadline: float) -> None:
        self._budget = budget
        self._deadline = deadline
        self.held = 0

    async def take(self, n: int) -> bool:
        """Take `n` more bytes (at most the whole budget); False if no room came in time."""
        n = min(n, self._budget.limit - self.held)
        if n <= 0:
            return True
        if not await self._budget._take(n, self._deadline):
            return False
        self.held += n
        return True
