"""The upstream seam: the one HTTP client that talks to the site behind the proxy.

The client never decompresses, never follows redirects and keeps no cookies:
what the site sends is what the pipeline sees. Requests without a body to an
idempotent method (page views, assets: nearly all traffic) go over the lean
kept-alive connections of `proxy.http1`; requests with a body (streamed uploads)
and websocket handshakes go through aiohttp's client. Both clients' exceptions are
translated here, and only here, into a small tree:

    UpstreamError                 the site could not be used for this request
    ├── UpstreamUnavailable       refused, reset, DNS, malformed response  -> 502
    └── UpstreamTimeout           connect or read deadline passed          -> 504

The messages carry the reason for the log line, never for the client.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from proxy.http1 import Connection, Head, HttpError, Pool


class UpstreamError(Exception):
    status = 502


class UpstreamUnavailable(UpstreamError):
    status = 502


class UpstreamTimeout(UpstreamError):
    status = 504


# Methods that may be sent again when a pooled keep-alive connection turns out closed.
IDEMPOTENT: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Headers the client library would otherwise invent; the visitor's own values go through.
SKIP_AUTO_HEADERS: frozenset[str] = frozenset(
    {"User-Agent", "Accept", "Accept-Encoding", "Content-Type"}
)

# Below the usual origin keep-alive (Apache: 5 s) so a pooled connection is not reused
# just as the origin closes it.
POOL_KEEPALIVE = 4.0
# Upstream response header lines may carry big cookies.
MAX_FIELD_SIZE = 16384
# Body bytes buffered per upstream response before reading pauses, and the kernel
# receive buffer of upstream sockets (Linux doubles it): one read takes at most that
# much, so 256 slow clients streaming 1 MB bodies at once cost ~40 MB, not ~160 MB.
# 128 KB in flight still streams at 128 MB/s from an upstream 1 ms away.
READ_BUFFER = 32 * 1024
RECEIVE_BUFFER = 64 * 1024


def _small_receive_buffer(addr_info: Any) -> socket.socket:
    """An upstream socket with a bounded receive buffer (see RECEIVE_BUFFER)."""
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=kind, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    return sock


async def _connected_socket(loop: asyncio.AbstractEventLoop, host: str, port: int) -> socket.socket:
    """A socket connected to the first address of `host` that accepts."""
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    error: OSError = OSError(f"no address for {host}")
    for info in infos:
        sock = _small_receive_buffer(info)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, info[4])
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


def _host_header(base: URL) -> str:
    """`host[:port]` as aiohttp writes it: the port only when not the scheme's default."""
    return base.host_port_subcomponent or ""


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def translate_errors(action: str) -> Translated:
    """Map the clients' and sockets' errors to the upstream error tree."""
    return Translated(action)


class Translated:
    """`translate_errors`'s context manager: a class, as it wraps every body read."""

    __slots__ = ("_action",)

    def __init__(self, action: str) -> None:
        self._action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, UpstreamError):
            return
        action = self._action
        if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
            raise UpstreamTimeout(f"{action}: timed out") from exc
        if isinstance(exc, HttpError):
            raise UpstreamUnavailable(f"{action}: {exc}") from exc
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = exc.os_error.strerror
            raise UpstreamUnavailable(f"{action}: cannot connect ({reason})") from exc
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            raise UpstreamUnavailable(f"{action}: server disconnected") from exc
        if isinstance(exc, aiohttp.ClientResponseError):
            raise UpstreamUnavailable(f"{action}: bad response ({exc.message})") from exc
        if isinstance(exc, aiohttp.ClientPayloadError):
            raise UpstreamUnavailable(f"{action}: broken body") from exc
        if isinstance(exc, (aiohttp.ClientError, OSError)):
            raise UpstreamUnavailable(f"{action}: {type(exc).__name__}") from exc


@dataclass
class UpstreamResponse:
    """Status and headers of the upstream's answer, and its body as raw (still encoded) bytes."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    async def read_chunk(self) -> bytes:
        """The next bytes of the body as they arrive; b"" at its end."""
        raise NotImplementedError


@dataclass
class _AiohttpResponse(UpstreamResponse):
    response: aiohttp.ClientResponse

    async def read_chunk(self) -> bytes:
        with translate_errors("reading body"):
            return await self.response.content.readany()


@dataclass
class _LeanResponse(UpstreamResponse):
    conn: Connection
    read_timeout: float

    async def read_chunk(self) -> bytes:
        with translate_errors("reading body"):
            data = self.conn.read_nowait()
            if data is None:
                deadline = asyncio.get_running_loop().time() + self.read_timeout
                data = await self.conn.read(deadline)
            return data


class Request:
    """`Upstream.request`'s context manager: a class, as every proxied request enters one."""

    __slots__ = ("_body", "_headers", "_method", "_release", "_target", "_upstream")

    def __init__(
        self,
        upstream: Upstream,
        method: str,
        raw_path_qs: str,
        headers: CIMultiDict[str],
        body: AsyncIterable[bytes] | None,
    ) -> None:
        self._upstream = upstream
        self._method = method
        self._target = raw_path_qs
        self._headers = headers
        self._body = body
        self._release: Callable[[], None] | None = None

    async def __aenter__(self) -> UpstreamResponse:
        up = self._upstream
        if self._body is None and self._method in IDEMPOTENT:
            conn, head = await up._send_lean(self._method, self._target, self._headers)
            self._release = lambda: up._pool.release(conn, conn.finish())
            up.last_ok = time.monotonic()
            return _LeanResponse(
                status=head.status,
                reason=head.reason,
                headers=CIMultiDictProxy(CIMultiDict(head.headers)),
                conn=conn,
                read_timeout=up._read_timeout,
            )
        response = await up._send(self._method, up.url(self._target), self._headers, self._body)
        self._release = response.release
        up.last_ok = time.monotonic()
        return _AiohttpResponse(
            status=response.status,
            reason=response.reason or "",
            headers=response.headers,
            response=response,
        )

    async def __aexit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if self._release is not None:
            self._release()


class Upstream:
    """The site behind the proxy; `request()` and `websocket()` are the only ways to it."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        self.base = URL(base_url.rstrip("/"))
        self._prefix = f"{self.base.origin()}{self.base.raw_path.rstrip('/')}"
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._path = self.base.raw_path.rstrip("/")
        self._host_header = _host_header(self.base)
        self._pool = Pool(self._connect, limit=max_connections, idle_timeout=POOL_KEEPALIVE)
        self._session: aiohttp.ClientSession | None = None
        self.last_ok: float | None = None
        """time.monotonic() of the last response the upstream gave (any status)."""

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=POOL_KEEPALIVE,
            socket_factory=_small_receive_buffer,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=SKIP_AUTO_HEADERS,
            max_field_size=MAX_FIELD_SIZE,
            max_line_size=MAX_FIELD_SIZE,
            read_bufsize=READ_BUFFER,
        )

    async def close(self) -> None:
        await self._pool.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("Upstream.start() was not awaited")
        return self._session

    def url(self, raw_path_qs: str) -> URL:
        """The upstream URL for a request target, kept exactly as the client encoded it."""
        return URL(self._prefix + raw_path_qs, encoded=True)

    def request(
        self,
        method: str,
        raw_path_qs: str,
        headers: CIMultiDict[str],
        body: AsyncIterable[bytes] | None,
    ) -> Request:
        """Send one request (`async with`); the response's connection is released at the
        block's end."""
        return Request(self, method, raw_path_qs, headers, body)

    async def _send_lean(
        self, method: str, raw_path_qs: str, headers: CIMultiDict[str]
    ) -> tuple[Connection, Head]:
        """The answer's head; a kept-alive connection found closed is retried on a fresh one."""
        data = self._request_head(method, raw_path_qs, headers)
        with translate_errors("sending request"):
            conn, reused = await self._pool.acquire()
            try:
                return conn, await self._exchange(conn, data, method)
            except HttpError:
                self._pool.release(conn, False)
                if not (reused and conn.answered_nothing):
                    raise
            except BaseException:
                self._pool.release(conn, False)
                raise
            conn = await self._pool.fresh()
            try:
                return conn, await self._exchange(conn, data, method)
            except BaseException:
                self._pool.release(conn, False)
                raise

    async def _exchange(self, conn: Connection, data: bytes, method: str) -> Head:
        conn.send(data, bodiless=method == "HEAD")
        return await conn.head(asyncio.get_running_loop().time() + self._read_timeout)

    def _request_head(self, method: str, raw_path_qs: str, headers: CIMultiDict[str]) -> bytes:
        lines = [f"{method} {self._path}{raw_path_qs} HTTP/1.1"]
        if "Host" not in headers:
            lines.append(f"Host: {self._host_header}")
        for name, value in headers.items():
            if "\n" in value or "\r" in value:
                raise UpstreamUnavailable(f"sending request: a line break in header {name}")
            lines.append(f"{name}: {value}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape")

    async def _connect(self) -> Connection:
        """A new connection, its socket's receive buffer bounded (see RECEIVE_BUFFER)."""
        host, port = self.base.host or "127.0.0.1", self.base.port or 80
        tls = self.base.scheme == "https"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                sock = await _connected_socket(loop, host, port)
                _, conn = await loop.create_connection(
                    lambda: Connection(high_water=READ_BUFFER),
                    sock=sock,
                    ssl=_tls_context() if tls else None,
                    server_hostname=host if tls else None,
                )
        except TimeoutError as exc:
            raise UpstreamTimeout("connecting: timed out") from exc
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise UpstreamUnavailable(f"sending request: cannot connect ({reason})") from exc
        return conn

    async def _send(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: AsyncIterable[bytes] | None,
    ) -> aiohttp.ClientResponse:
        """A request with a body (or to a method that is not idempotent): never sent twice."""
        with translate_errors("sending request"):
            return await self.session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                compress=None,
                chunked=None,
            )

    @asynccontextmanager
    async def websocket(
        self,
        raw_path_qs: str,
        headers: CIMultiDict[str],
        protocols: tuple[str, ...],
        max_msg_size: int,
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """Open the upstream leg of a websocket; the handshake's failures map to the tree."""
        url = self.url(raw_path_qs)
        with translate_errors("websocket handshake"):
            ws = await self.session.ws_connect(
                url.with_scheme("wss" if url.scheme == "https" else "ws"),
                headers=headers,
                protocols=protocols,
                autoping=False,
                max_msg_size=max_msg_size,
            )
        try:
            self.last_ok = time.monotonic()
            yield ws
        finally:
            await ws.close()

    async def probe(self, timeout: float) -> bool:
        """True if the upstream accepts a TCP connection within `timeout` (a readiness hint)."""
        host, port = self.base.host or "127.0.0.1", self.base.port or 80
        try:
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(host, port)
        except (TimeoutError, OSError):
            return False
        writer.close()
        self.last_ok = time.monotonic()
        return True
