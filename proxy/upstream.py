"""The upstream seam: the one HTTP client that talks to the site behind the proxy.

The client never decompresses, never follows redirects and keeps no cookies:
what the site sends is what the pipeline sees. aiohttp's exceptions are
translated here, and only here, into a small tree:

    UpstreamError                 the site could not be used for this request
    ├── UpstreamUnavailable       refused, reset, DNS, malformed response  -> 502
    └── UpstreamTimeout           connect or read deadline passed          -> 504

The messages carry the reason for the log line, never for the client.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL


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


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Map aiohttp and socket errors to the upstream error tree."""
    try:
        yield
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise UpstreamTimeout(f"{action}: timed out") from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamUnavailable(f"{action}: cannot connect ({exc.os_error.strerror})") from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise UpstreamUnavailable(f"{action}: server disconnected") from exc
    except aiohttp.ClientResponseError as exc:
        raise UpstreamUnavailable(f"{action}: bad response ({exc.message})") from exc
    except aiohttp.ClientPayloadError as exc:
        raise UpstreamUnavailable(f"{action}: broken body") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise UpstreamUnavailable(f"{action}: {type(exc).__name__}") from exc


@dataclass
class UpstreamResponse:
    """Status and headers of the upstream's answer, and its body as raw (still encoded) bytes."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    _response: aiohttp.ClientResponse

    @property
    def content_length(self) -> int | None:
        return self._response.content_length

    async def read_chunk(self) -> bytes:
        """The next bytes of the body as they arrive; b"" at its end."""
        with translate_errors("reading body"):
            return await self._response.content.readany()


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

    @asynccontextmanager
    async def request(
        self,
        method: str,
        raw_path_qs: str,
        headers: CIMultiDict[str],
        body: AsyncIterable[bytes] | None,
    ) -> AsyncIterator[UpstreamResponse]:
        """Send one request; the response's connection is released when the block exits."""
        retry = body is None and method in IDEMPOTENT
        response = await self._send(method, self.url(raw_path_qs), headers, body, retry)
        try:
            self.last_ok = time.monotonic()
            yield UpstreamResponse(
                status=response.status,
                reason=response.reason or "",
                headers=response.headers,
                _response=response,
            )
        finally:
            response.release()

    async def _send(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: AsyncIterable[bytes] | None,
        retry: bool,
    ) -> aiohttp.ClientResponse:
        with translate_errors("sending request"):
            try:
                return await self._once(method, url, headers, body)
            except aiohttp.ServerDisconnectedError:
                if not retry:
                    raise
            # A pooled connection closed by the origin between requests: one fresh try.
            return await self._once(method, url, headers, body)

    async def _once(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: AsyncIterable[bytes] | None,
    ) -> aiohttp.ClientResponse:
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
