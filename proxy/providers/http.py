"""The providers' HTTP client: a small keep-alive HTTP/1.1 pool for short JSON POSTs.

A provider call is one small POST per page view on the page's critical path, so its
client is kept lean: the request is written in one piece, the answer is parsed by
llhttp (`httptools`, the parser uvicorn uses) and read whole, bounded. Connections are
kept alive and reused last-in first-out; one that might be in doubt (a cancelled or
failed call, an answer cut short, `Connection: close`) is closed, never reused.
aiohttp's client, with its cookie jar, redirects, tracing and streaming readers, cost
as much CPU per call as the rest of a page view.

Deadlines are the caller's (`asyncio.timeout`): cancelling a call closes its connection.
TLS uses the system's trusted CAs and checks the host name. Errors are `HttpError`s with
short messages (never a body); the providers' `translated` maps them to their tree.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools

MAX_ANSWER = 64 * 1024
"""Bytes of one answer, headers included: a tracking answer is a few hundred bytes."""
IDLE_TIMEOUT = 4.0
"""Idle connections older than this are not reused: below the usual server keep-alive
(5 s for Apache and nginx's upstreams), so a connection is not reused just as it closes."""
MAX_IDLE = 64
"""Idle connections kept per host; more are closed once their call is done."""
USER_AGENT = "dni-edge"


class HttpError(Exception):
    """The call could not be made or its answer could not be read."""


class AnswerTooLarge(HttpError):
    """The answer is larger than any the provider's contract describes."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL sends a request: the pool key, and the request line's parts."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str


@lru_cache(maxsize=256)
def target_of(url: str) -> Target:
    """`url` split once; raises ValueError for anything but an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    default = 443 if parts.scheme == "https" else 80
    port = parts.port if parts.port is not None else default
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, host_header, path)


class _Connection(asyncio.Protocol):
    """One connection to a provider, carrying one call at a time."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[Answer] | None = None
        self._body = bytearray()
        self._received = 0
        self._headers_done = False
        self._framed = False
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0

    # -- the call --------------------------------------------------------------------------

    def send(self, data: bytes) -> asyncio.Future[Answer]:
        assert self._transport is not None and self._answer is None
        self._answer = asyncio.get_running_loop().create_future()
        self._body.clear()
        self._received = 0
        self._headers_done = self._framed = self.reusable = False
        self._transport.write(data)
        return self._answer

    def done(self) -> None:
        """The call is over, answered or not; the connection may be reused if it was answered."""
        self._answer = None

    @property
    def answered_nothing(self) -> bool:
        """No byte of an answer came: the server closed a kept-alive connection we wrote to."""
        return self._received == 0

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: the connection can no longer be trusted
            return
        self._received += len(data)
        if self._received > self._limit:
            self._fail(AnswerTooLarge(f"answer over {self._limit} bytes"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(HttpError("unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"malformed HTTP answer ({exc})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is None or self._answer.done():
            return
        if self._headers_done and not self._framed:  # the body ran to the end of the connection
            self._answer.set_result(Answer(self._parser.get_status_code(), bytes(self._body)))
        elif self._received:
            self._answer.set_exception(HttpError("connection closed during the answer"))
        else:
            self._answer.set_exception(HttpError("connection closed before an answer"))

    # -- llhttp callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # a message after the answer, in the same read: bytes nobody asked for

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            self._body.clear()
            self._headers_done = self._framed = False
            return
        if self._answer is not None and not self._answer.done():
            self.reusable = self._parser.should_keep_alive()
            self._answer.set_result(Answer(status, bytes(self._body)))

    def _fail(self, exc: HttpError) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)
        self.close()


class ProviderHttp:
    """A pool of keep-alive connections per provider host; `post` is the one call."""

    def __init__(
        self,
        *,
        limit: int = MAX_ANSWER,
        idle_timeout: float = IDLE_TIMEOUT,
        max_idle: int = MAX_IDLE,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._max_idle = max_idle
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._closed = False

    async def __aenter__(self) -> ProviderHttp:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """POST `body` to `url`; the whole answer, whatever its status."""
        target = target_of(url)
        data = _request_head(target, len(body), headers) + body
        conn, reused = await self._acquire(target)
        try:
            answer = await self._call(conn, data)
        except HttpError:
            if not (reused and conn.answered_nothing):
                raise
            # A kept-alive connection the server had already closed: the request never
            # reached it, so it is sent once more on a fresh connection.
            conn, reused = await self._connect(target), False
            answer = await self._call(conn, data)
        self._release(target, conn)
        return answer

    async def close(self) -> None:
        self._closed = True
        for pool in self._idle.values():
            for conn in pool:
                conn.close()
        self._idle.clear()

    async def _call(self, conn: _Connection, data: bytes) -> Answer:
        try:
            return await conn.send(data)
        except BaseException:  # failed or cancelled: the connection's state is unknown
            conn.close()
            raise
        finally:
            conn.done()

    async def _acquire(self, target: Target) -> tuple[_Connection, bool]:
        pool = self._idle.get((target.scheme, target.host, target.port))
        oldest = time.monotonic() - self._idle_timeout
        while pool:
            conn = pool.pop()
            if not conn.closed and conn.idle_since > oldest:
                return conn, True
            conn.close()
        return await self._connect(target), False

    async def _connect(self, target: Target) -> _Connection:
        if self._closed:
            raise HttpError("client closed")
        tls = target.scheme == "https"
        context = (self._ssl or _default_context()) if tls else None
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(
                lambda: _Connection(self._limit),
                target.host,
                target.port,
                ssl=context,
                server_hostname=target.host if tls else None,
            )
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise HttpError(f"cannot connect ({exc.strerror or type(exc).__name__})") from exc
        return conn

    def _release(self, target: Target, conn: _Connection) -> None:
        pool = self._idle.setdefault((target.scheme, target.host, target.port), [])
        if conn.closed or not conn.reusable or self._closed or len(pool) >= self._max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        pool.append(conn)


def _request_head(target: Target, length: int, headers: Mapping[str, str]) -> bytes:
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {target.host_header}",
        f"User-Agent: {USER_AGENT}",
        f"Content-Length: {length}",
    ]
    for name, value in headers.items():
        if name.lower() in _FRAMING:
            raise ValueError(f"header {name!r} is the client's to write")
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "user-agent", "connection"})


@lru_cache(maxsize=1)
def _default_context() -> ssl.SSLContext:
    return ssl.create_default_context()
