"""A small HTTP/1.1 client core: kept-alive connections whose answers llhttp parses.

Two clients stand on it, both on a page view's critical path: the upstream's for
requests without a body (pages and assets; `upstream.py`), and the providers' one POST
per view (`providers/http.py`). aiohttp's client, with its cookie jar, redirects,
tracing and stream readers, cost three times the CPU per exchange (100 against 35 us
for a 100 KB page on loopback, 203 against 57 us for a provider POST).

A `Connection` carries one exchange at a time: the request is written in one piece,
the answer's head is awaited, then its body is read as it arrives, reading paused
while more than `high_water` bytes wait.
Whatever might leave a connection in doubt (a cancelled or failed exchange, bytes
nobody asked for, `Connection: close`, an answer to HEAD) closes it rather than
returning it to its `Pool`.

Waits take a deadline on the loop's clock (`TimeoutError` when it passes): one timer
per wait, cheaper than an `asyncio.timeout` block around each. Errors are `HttpError`s
with short messages that never carry a body.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httptools

MAX_FIELD = 16 * 1024
"""Bytes of one header line (name and value): big cookies fit."""
MAX_HEAD = 64 * 1024
"""Bytes of an answer's status line and headers together."""


class HttpError(Exception):
    """The exchange could not be made or its answer could not be read."""


class AnswerTooLarge(HttpError):
    """The answer is larger than its reader accepts."""


@dataclass(frozen=True, slots=True)
class Head:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    """In order, repeated names kept (every Set-Cookie line)."""


class Connection(asyncio.Protocol):
    """One connection to a server; `send`, `head`, then `read` until b""."""

    def __init__(self, *, high_water: int = 64 * 1024, limit: int | None = None) -> None:
        self._high_water = high_water
        self._limit = limit
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.idle_since = 0.0
        # One parser for the connection's life: llhttp starts afresh after each complete
        # answer, and a connection whose answer did not complete is never reused.
        self._parser = httptools.HttpResponseParser(self)
        self._reset(active=False)

    def _reset(self, *, active: bool) -> None:
        self._active = active
        self._bodiless = False
        self._received = 0
        self._head_size = 0
        self._reason = ""
        self._fields: list[tuple[str, str]] = []
        self._framed = False
        self._interim = False
        self._head: Head | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._done = False
        self._error: HttpError | None = None
        self._refused = ""
        self.reusable = False

    # -- one exchange ----------------------------------------------------------------------

    def send(self, data: bytes, *, bodiless: bool = False) -> None:
        """Start an exchange; `bodiless` for HEAD, whose answer has a length but no body."""
        if self._transport is None or self.closed:
            raise HttpError("connection closed before an answer")
        self._reset(active=True)
        self._bodiless = bodiless
        self._transport.write(data)

    async def head(self, deadline: float | None = None) -> Head:
        """The answer's status line and headers; `deadline` on the loop's clock."""
        while self._head is None:
            if self._error is not None:
                raise self._error
            await self._wait(deadline)
        return self._head

    def read_nowait(self) -> bytes | None:
        """The body bytes that arrived, b"" at the end, None if the caller must wait."""
        if self._chunks:
            data = self._chunks.popleft() if len(self._chunks) == 1 else b"".join(self._chunks)
            self._chunks.clear()
            self._buffered = 0
            if self._paused and self._transport is not None and not self.closed:
                self._paused = False
                self._transport.resume_reading()
            return data
        if self._error is not None:
            raise self._error
        return b"" if self._done else None

    async def read(self, deadline: float | None = None) -> bytes:
        """The body bytes that arrived, waiting for some; b"" at the end."""
        while (data := self.read_nowait()) is None:
            await self._wait(deadline)
        return data

    def finish(self) -> bool:
        """End the exchange; True if the connection may carry another one."""
        reusable = self._done and self.reusable and not self._chunks and not self.closed
        self._active = False
        return reusable

    @property
    def answered_nothing(self) -> bool:
        """Not one byte of an answer came: the server had closed a kept-alive connection."""
        return self._received == 0

    def close(self) -> None:
        self.closed = True
        self._active = False
        if self._transport is not None:
            self._transport.abort()

    async def _wait(self, deadline: float | None) -> None:
        """Until woken by the protocol; `TimeoutError` if the loop's clock reaches `deadline`."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if deadline is None else loop.call_at(deadline, _expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, error: HttpError) -> None:
        if self._error is None and not self._done:
            self._error = error
        self.close()
        self._wake()

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if not self._active or self._done:
            self.close()  # bytes nobody asked for: the connection can no longer be trusted
            return
        self._received += len(data)
        if self._limit is not None and self._received > self._limit:
            self._fail(AnswerTooLarge(f"answer over {self._limit} bytes"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(HttpError("unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            self._fail(HttpError(self._refused or f"malformed HTTP answer ({exc})"))
        else:
            if self._head is None and self._received > MAX_HEAD:
                self._fail(HttpError(f"answer head over {MAX_HEAD} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._active and not self._done and self._error is None:
            if self._head is not None and not self._framed:
                self._done = True  # the body ran to the end of the connection
            elif self._received:
                self._error = HttpError("connection closed during the answer")
            else:
                self._error = HttpError("connection closed before an answer")
        self._wake()

    def pause_writing(self) -> None:
        """Requests are small and written whole: the transport buffers them."""

    def resume_writing(self) -> None:
        """See `pause_writing`."""

    # -- llhttp callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._done:  # a message after the answer, in the same read: nobody asked for it
            self._refuse("a message after the answer")

    def _refuse(self, reason: str) -> None:
        """Stop the parser from a callback; `data_received` reports `reason`."""
        self._refused = reason
        raise httptools.HttpParserError(reason)

    def on_status(self, reason: bytes) -> None:
        self._head_size += len(reason) + len("HTTP/1.1 200 \r\n")
        self._reason += reason.decode("utf-8", "surrogateescape")

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head is not None:
            return  # a trailer after a chunked body: not a header of the answer
        size = len(name) + len(value) + len(": \r\n")
        self._head_size += size
        if size > MAX_FIELD:
            self._refuse(f"a header line over {MAX_FIELD} bytes")
        if self._head_size > MAX_HEAD:
            self._refuse(f"answer head over {MAX_HEAD} bytes")
        lower = name.lower()
        if lower == b"content-length" or lower == b"transfer-encoding":
            self._framed = True
        self._fields.append(
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
        )

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            self._interim = True
            self._reason, self._fields, self._framed, self._head_size = "", [], False, 0
            return
        self._head = Head(status, self._reason, self._fields)
        if self._bodiless:
            self._done = True  # nothing more is read: the connection is not reused
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._bodiless:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > self._high_water and not self._paused and not self.closed:
            self._paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if not self._bodiless:
            self._done = True
            self.reusable = self._parser.should_keep_alive()
        self._wake()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Pool:
    """Kept-alive connections to one server, reused last-in first-out, at most `limit` open."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Connection]],
        *,
        limit: int | None = None,
        idle_timeout: float = 4.0,
        max_idle: int = 64,
    ) -> None:
        self._connect = connect
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._max_idle = max_idle
        self._idle: list[Connection] = []
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._closed = False

    async def acquire(self) -> tuple[Connection, bool]:
        """A connection, and whether it was kept alive from an earlier exchange."""
        while True:
            conn = self.idle()
            if conn is not None:
                return conn, True
            if self._limit is None or self._open < self._limit:
                return await self._open_one(), False
            await self._wait_for_room()

    async def fresh(self) -> Connection:
        """A new connection (never a kept-alive one), waiting for room under the limit."""
        while self._limit is not None and self._open >= self._limit:
            idle = self.idle()
            if idle is not None:
                self._discard(idle)
                break
            await self._wait_for_room()
        return await self._open_one()

    def release(self, conn: Connection, reusable: bool) -> None:
        if reusable and not conn.closed and not self._closed and len(self._idle) < self._max_idle:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            self._wake_one()
            return
        self._discard(conn)

    async def close(self) -> None:
        self._closed = True
        for conn in self._idle:
            conn.close()
        self._open -= len(self._idle)
        self._idle.clear()

    def idle(self) -> Connection | None:
        """A kept-alive connection ready for an exchange, if there is one."""
        oldest = time.monotonic() - self._idle_timeout
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and conn.idle_since > oldest:
                return conn
            self._discard(conn)
        return None

    async def _open_one(self) -> Connection:
        if self._closed:
            raise HttpError("client closed")
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise

    async def _wait_for_room(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # the room it was given goes to the next in line
            raise
        finally:
            if waiter in self._waiting:
                self._waiting.remove(waiter)

    def _discard(self, conn: Connection) -> None:
        conn.close()
        self._open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
