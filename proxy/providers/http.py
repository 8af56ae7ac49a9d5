"""The providers' HTTP client: short JSON POSTs over kept-alive HTTP/1.1 connections.

A provider call is one small POST per page view, on the page's critical path: the
request is written in one piece, the answer read whole and bounded, on the lean core in
`proxy.http1` (llhttp, connections reused last-in first-out, any in doubt closed). A
kept-alive connection the server closed before reading the request is noticed when the
request meets no answer at all, and the request is sent once more on a fresh one.

TLS uses the system's trusted CAs and checks the host name. Errors are `HttpError`s;
the providers' `translated` maps them to their tree.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from proxy.http1 import AnswerTooLarge, Connection, HttpError, Pool

__all__ = ["MAX_ANSWER", "Answer", "AnswerTooLarge", "HttpError", "ProviderHttp", "target_of"]

MAX_ANSWER = 64 * 1024
"""Bytes of one answer, headers included: a tracking answer is a few hundred bytes."""
IDLE_TIMEOUT = 4.0
"""Idle connections older than this are not reused: below the usual server keep-alive
(5 s for Apache and nginx's upstreams), so a connection is not reused just as it closes."""
MAX_IDLE = 64
"""Idle connections kept per host; more are closed once their call is done."""
USER_AGENT = "dni-edge"


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


class ProviderHttp:
    """A pool of kept-alive connections per provider host; `post` is the one call."""

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
        self._pools: dict[tuple[str, str, int], Pool] = {}
        self._closed = False

    async def __aenter__(self) -> ProviderHttp:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], deadline: float | None = None
    ) -> Answer:
        """POST `body` to `url`; the whole answer, whatever its status.

        `deadline`, on the loop's clock, bounds the whole call (`TimeoutError`).
        """
        target = target_of(url)
        data = _request_head(target, len(body), headers) + body
        pool = self._pool(target)
        conn = pool.idle()
        reused = conn is not None
        if conn is None:
            conn = await _within(deadline, pool.fresh())
        try:
            answer = await self._call(pool, conn, data, deadline)
        except HttpError:
            if not (reused and conn.answered_nothing):
                raise
            # A kept-alive connection the server had already closed: the request never
            # reached it, so it is sent once more on a fresh connection.
            answer = await self._call(pool, await _within(deadline, pool.fresh()), data, deadline)
        return answer

    async def close(self) -> None:
        self._closed = True
        for pool in self._pools.values():
            await pool.close()

    def _pool(self, target: Target) -> Pool:
        key = (target.scheme, target.host, target.port)
        pool = self._pools.get(key)
        if pool is None:
            if self._closed:
                raise HttpError("client closed")
            pool = Pool(
                lambda: self._connect(target),
                idle_timeout=self._idle_timeout,
                max_idle=self._max_idle,
            )
            self._pools[key] = pool
        return pool

    async def _call(
        self, pool: Pool, conn: Connection, data: bytes, deadline: float | None
    ) -> Answer:
        reusable = False
        try:
            conn.send(data)
            head = await conn.head(deadline)
            body = bytearray()
            while chunk := await conn.read(deadline):
                body += chunk
            reusable = conn.finish()
            return Answer(head.status, bytes(body))
        finally:
            conn.finish()
            pool.release(conn, reusable)

    async def _connect(self, target: Target) -> Connection:
        tls = target.scheme == "https"
        context = (self._ssl or _default_context()) if tls else None
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(
                lambda: Connection(limit=self._limit, high_water=self._limit),
                target.host,
                target.port,
                ssl=context,
                server_hostname=target.host if tls else None,
            )
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise HttpError(f"cannot connect ({exc.strerror or type(exc).__name__})") from exc
        return conn


async def _within(deadline: float | None, opening: Awaitable[Connection]) -> Connection:
    """A connection being opened, within the call's deadline."""
    if deadline is None:
        return await opening
    async with asyncio.timeout_at(deadline):
        return await opening


_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "user-agent", "connection"})


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


@lru_cache(maxsize=1)
def _default_context() -> ssl.SSLContext:
    return ssl.create_default_context()
