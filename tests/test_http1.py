"""The upstream's lean path (`proxy.upstream` over `proxy.http1`) against real servers on loopback.

Requests without a body to GET, HEAD, OPTIONS and TRACE go over the kept-alive HTTP/1.1
core; a raw `asyncio` server sees their exact bytes, answers with exact, late or broken
bytes and counts the connections. The framing, limits and TLS the core shares with the
providers' client are in `test_provider_http.py`; this file covers what the upstream adds:
the request as the visitor sent it, the answer as the site sent it, flow control, the
pool's limit, the retry of a dead kept-alive connection and the upstream error tree.
"""

from __future__ import annotations

import asyncio
import select
import socket
from array import array
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict
from raw_http import WAIT, Handler, Received, fields_of, raw_server, reply, send

from proxy.upstream import (
    READ_BUFFER,
    RECEIVE_BUFFER,
    Upstream,
    UpstreamTimeout,
    UpstreamUnavailable,
)

SHORT = 0.2
"""The read and connect timeouts of tests that expect them to run out."""

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
Headers = Sequence[tuple[str, str]]


# -- a raw server ------------------------------------------------------------------------------


def answering(data: bytes, *, close: bool = False, piece: int = 0) -> Handler:
    """Answers every request with `data`, then closes the connection if `close`."""

    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        await send(writer, data, piece)
        if close:
            writer.close()

    return handle


async def echo_target(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(received.target.encode()))


def on_path(path: str, handler: Handler) -> Handler:
    """`handler` for requests to `path`; every other request gets its target back."""

    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        await (handler if received.target == path else echo_target)(received, writer)

    return handle


def never_answering() -> Handler:
    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(WAIT * 2)

    return handle


# -- the upstream client -----------------------------------------------------------------------


@asynccontextmanager
async def upstream_at(
    url: str,
    *,
    connect_timeout: float = WAIT,
    read_timeout: float = WAIT,
    max_connections: int = 8,
) -> AsyncIterator[Upstream]:
    upstream = Upstream(
        url,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_connections=max_connections,
    )
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.close()


@dataclass(frozen=True)
class Fetched:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    content_length: int | None
    body: bytes


async def fetch(
    upstream: Upstream,
    target: str = "/",
    *,
    method: str = "GET",
    headers: Headers = (),
    body: AsyncIterable[bytes] | None = None,
) -> Fetched:
    """One request, its answer read to the end."""
    async with upstream.request(method, target, CIMultiDict(headers), body) as up:
        chunks = [chunk async for chunk in chunks_of(up.read_chunk)]
        return Fetched(
            up.status, up.reason, list(up.headers.items()), up.content_length, b"".join(chunks)
        )


async def chunks_of(read_chunk: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while chunk := await read_chunk():
        yield chunk


async def fetch_all(upstream: Upstream, targets: Sequence[str]) -> list[Fetched]:
    """One request after the other."""
    return [await fetch(upstream, target) for target in targets]


# -- the request -------------------------------------------------------------------------------


REQUEST_LINES = [
    pytest.param("", "GET", "/", b"GET / HTTP/1.1", id="root"),
    pytest.param(
        "",
        "GET",
        "/caf%C3%A9/a%20b?q=%2F%26x&e=%zz",
        b"GET /caf%C3%A9/a%20b?q=%2F%26x&e=%zz HTTP/1.1",
        id="percent-encodings-kept",
    ),
    pytest.param(
        "",
        "GET",
        "/a;jsessionid=1/b;v=2?x=;",
        b"GET /a;jsessionid=1/b;v=2?x=; HTTP/1.1",
        id="semicolons",
    ),
    pytest.param("", "GET", "//cdn//x.js", b"GET //cdn//x.js HTTP/1.1", id="double-slashes"),
    pytest.param("", "GET", "/a/../b/./c", b"GET /a/../b/./c HTTP/1.1", id="dot-segments-kept"),
    pytest.param("", "GET", "/search?", b"GET /search? HTTP/1.1", id="empty-query-kept"),
    pytest.param("", "GET", "/p?a=1&a=2&b", b"GET /p?a=1&a=2&b HTTP/1.1", id="repeated-query"),
    pytest.param("", "HEAD", "/h?x=1", b"HEAD /h?x=1 HTTP/1.1", id="head"),
    pytest.param("", "OPTIONS", "*", b"OPTIONS * HTTP/1.1", id="options-asterisk"),
    pytest.param("", "TRACE", "/t", b"TRACE /t HTTP/1.1", id="trace"),
    pytest.param("/shop", "GET", "/cart?id=1", b"GET /shop/cart?id=1 HTTP/1.1", id="prefix"),
    pytest.param("/shop/", "GET", "/cart", b"GET /shop/cart HTTP/1.1", id="prefix-trailing-slash"),
    pytest.param(
        "/a%20b/v1", "GET", "//x%2Fy;z", b"GET /a%20b/v1//x%2Fy;z HTTP/1.1", id="encoded-prefix"
    ),
]


@pytest.mark.parametrize(("prefix", "method", "target", "line"), REQUEST_LINES)
async def test_the_request_line_carries_the_method_and_target_as_given(
    prefix: str, method: str, target: str, line: bytes
) -> None:
    async with raw_server(answering(reply(b""))) as server, upstream_at(server.url + prefix) as up:
        answer = await fetch(up, target, method=method)
    assert answer.status == 200
    assert [request.line for request in server.requests] == [line]


@pytest.mark.parametrize(
    ("host", "headers", "sent_host"),
    [
        pytest.param("127.0.0.1", [], "127.0.0.1:{port}", id="ip-and-port"),
        pytest.param("localhost", [], "localhost:{port}", id="name-and-port"),
        pytest.param("127.0.0.1", [("Host", "www.site.test")], "www.site.test", id="given"),
        pytest.param("127.0.0.1", [("host", "Site.Test:8443")], "Site.Test:8443", id="given-lower"),
    ],
)
async def test_the_host_header_is_the_upstreams_unless_given(
    host: str, headers: Headers, sent_host: str
) -> None:
    async with raw_server(answering(reply(b""))) as server:
        port = int(server.url.rsplit(":", 1)[1])
        async with upstream_at(f"http://{host}:{port}/") as up:
            await fetch(up, "/", headers=headers)
    [request] = server.requests
    hosts = [value for name, value in request.fields if name.lower() == "host"]
    assert hosts == [sent_host.format(port=port)]


HEADERS = [
    pytest.param([], id="none"),
    pytest.param(
        [
            ("Accept", "text/html"),
            ("Cookie", "a=1"),
            ("X-Forwarded-For", "203.0.113.7"),
            ("cookie", "b=2"),
            ("Accept-Language", "fr-FR,fr;q=0.9"),
            ("X-Empty", ""),
            ("x-MiXeD", "Case Kept"),
        ],
        id="repeated-and-mixed-case",
    ),
    pytest.param(
        [("User-Agent", "Mozilla/5.0 (X11)"), ("Accept-Encoding", "gzip, br")], id="visitors-own"
    ),
]


@pytest.mark.parametrize("headers", HEADERS)
async def test_the_given_headers_go_out_in_order_and_none_is_invented(headers: Headers) -> None:
    async with raw_server(answering(reply(b""))) as server, upstream_at(server.url) as up:
        await fetch(up, "/", headers=headers)
    [request] = server.requests
    assert request.fields == [("Host", server.url.removeprefix("http://")), *headers]
    sent = {name.lower() for name, _ in request.fields}
    assert not sent & {"connection", "content-length", "transfer-encoding", "keep-alive"}


async def test_a_header_with_a_line_break_is_refused_before_sending() -> None:
    async with raw_server(echo_target) as server, upstream_at(server.url) as up:
        with pytest.raises(UpstreamUnavailable, match="line break in header X-Key"):
            await fetch(up, "/", headers=[("X-Key", "k\r\nX-Injected: 1")])
        await fetch(up, "/after")
    assert server.targets == ["/after"]


# -- the answer --------------------------------------------------------------------------------


ANSWERS = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi",
        200,
        "OK",
        [("Content-Type", "text/html"), ("Content-Length", "2")],
        b"hi",
        id="200",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nVary: Cookie\r\n"
        b"Set-Cookie: b=2; HttpOnly\r\nset-cookie: c=3\r\nContent-Length: 0\r\n\r\n",
        200,
        "OK",
        [
            ("Set-Cookie", "a=1; Path=/"),
            ("Vary", "Cookie"),
            ("Set-Cookie", "b=2; HttpOnly"),
            ("set-cookie", "c=3"),
            ("Content-Length", "0"),
        ],
        b"",
        id="set-cookies-in-order",
    ),
    pytest.param(
        reply(b"gone", head=b"HTTP/1.1 404 Not Found\r\n"),
        404,
        "Not Found",
        [("Content-Length", "4")],
        b"gone",
        id="404",
    ),
    pytest.param(
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: /new?a=%20\r\nContent-Length: 0\r\n\r\n",
        301,
        "Moved Permanently",
        [("Location", "/new?a=%20"), ("Content-Length", "0")],
        b"",
        id="redirect-not-followed",
    ),
    pytest.param(
        reply(b"", head=b"HTTP/1.1 599 Odd But Fine\r\n"),
        599,
        "Odd But Fine",
        [("Content-Length", "0")],
        b"",
        id="unknown-status",
    ),
    pytest.param(
        reply(b"", head=b"HTTP/1.1 200 \r\n"),
        200,
        "",
        [("Content-Length", "0")],
        b"",
        id="empty-reason",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: 4\r\n\r\n\x1f\x8b\x08\x00",
        200,
        "OK",
        [("X-Name", "café"), ("Content-Encoding", "gzip"), ("Content-Length", "4")],
        b"\x1f\x8b\x08\x00",
        id="encoded-body-as-sent",
    ),
]


@pytest.mark.parametrize(("data", "status", "reason", "headers", "body"), ANSWERS)
async def test_the_answer_comes_back_as_sent(
    data: bytes, status: int, reason: str, headers: Headers, body: bytes
) -> None:
    async with raw_server(answering(data)) as server, upstream_at(server.url) as up:
        answer = await fetch(up)
    assert answer == Fetched(status, reason, list(headers), len(body), body)


HELLO = b"hello world"
CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
EARLY_HINTS = (
    b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    b"HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n"
)
NOT_MODIFIED = b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n'
FRAMINGS = [
    pytest.param(reply(HELLO), 200, HELLO, False, 1, id="content-length"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + CHUNKED, 200, HELLO, False, 1, id="chunked"),
    pytest.param(b"HTTP/1.1 200 OK\r\n\r\n" + HELLO, 200, HELLO, True, 2, id="end-of-connection"),
    pytest.param(b"HTTP/1.0 200 OK\r\n\r\n" + HELLO, 200, HELLO, True, 2, id="end-of-conn-1.0"),
    pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", 204, b"", False, 1, id="204"),
    pytest.param(NOT_MODIFIED, 304, b"", False, 1, id="304-with-a-length"),
    pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n" + reply(HELLO), 200, HELLO, False, 1, id="100"),
    pytest.param(EARLY_HINTS + b"HTTP/1.1 200 OK\r\n" + CHUNKED, 200, HELLO, False, 1, id="103s"),
]


@pytest.mark.parametrize("piece", [pytest.param(0, id="whole"), pytest.param(4, id="in-pieces")])
@pytest.mark.parametrize(("data", "status", "body", "close", "connections"), FRAMINGS)
async def test_the_body_is_framed_as_the_server_said(
    data: bytes, status: int, body: bytes, close: bool, connections: int, piece: int
) -> None:
    """Interim answers are skipped: their status and headers (Link) are not the answer's."""
    handler = answering(data, close=close, piece=piece)
    async with raw_server(handler) as server, upstream_at(server.url) as up:
        answers = await fetch_all(up, ["/1", "/2"])
    assert [(answer.status, answer.body) for answer in answers] == [(status, body)] * 2
    assert all("Link" not in dict(answer.headers) for answer in answers)
    assert server.connections == connections


async def test_a_chunked_answers_trailer_is_not_a_header() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n"
        b"b\r\nhello world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    async with raw_server(answering(data)) as server, upstream_at(server.url) as up:
        answer = await fetch(up)
    assert answer.body == HELLO
    assert answer.headers == [("Transfer-Encoding", "chunked"), ("Trailer", "X-Trailer")]


async def test_a_head_answer_with_a_length_ends_at_once_and_its_connection_is_closed() -> None:
    head_only = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nContent-Type: text/html\r\n\r\n"
    handler = on_path("/page", answering(head_only))
    async with raw_server(handler) as server, upstream_at(server.url, read_timeout=30.0) as up:
        async with asyncio.timeout(WAIT):  # the 5000 bytes are never waited for
            answer = await fetch(up, "/page", method="HEAD")
        await server.wait_ended(1)
        after = await fetch(up, "/after")
    assert (answer.status, answer.content_length, answer.body) == (200, 5000, b"")
    assert after.body == b"/after"
    assert [request.conn for request in server.requests] == [0, 1]


# -- flow control ------------------------------------------------------------------------------


BIG = 8 * 1024 * 1024
BIG_BODY = array("I", range(BIG // 4)).tobytes()  # every 4 bytes distinct: order shows
HELD_AT_MOST = READ_BUFFER + 4 * RECEIVE_BUFFER
"""The high-water mark, plus one read of a socket whose receive buffer Linux doubles, with room."""
IN_FLIGHT_AT_MOST = 1024 * 1024
"""Kernel buffers of both ends (the server's send buffer is set small) and the process's."""


@dataclass
class Flood:
    """A server answering with BIG_BODY, which records whether its writes were held back."""

    stalled: asyncio.Event = field(default_factory=asyncio.Event)
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    unsent: int = 0

    async def __call__(self, received: Received, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        writer.write(reply(BIG_BODY))
        try:
            async with asyncio.timeout(0.3):
                await writer.drain()
        except TimeoutError:
            self.unsent = writer.transport.get_write_buffer_size()
            self.stalled.set()
        await writer.drain()
        self.drained.set()


async def test_a_reader_that_does_not_read_holds_the_server_back() -> None:
    flood = Flood()
    async with raw_server(flood) as server, upstream_at(server.url) as upstream:
        async with upstream.request("GET", "/big", CIMultiDict(), None) as up:
            async with asyncio.timeout(WAIT):
                await flood.stalled.wait()  # the server's drain() did not complete
            assert not flood.drained.is_set()
            assert flood.unsent >= BIG - IN_FLIGHT_AT_MOST
            first = await up.read_chunk()  # all the process held while nobody read
            assert 0 < len(first) <= HELD_AT_MOST
            rest = [chunk async for chunk in chunks_of(up.read_chunk)]
        async with asyncio.timeout(WAIT):
            await flood.drained.wait()
    assert up.content_length == BIG
    assert first + b"".join(rest) == BIG_BODY
    assert max(map(len, rest)) <= HELD_AT_MOST


# -- keep-alive --------------------------------------------------------------------------------


async def test_consecutive_gets_reuse_one_connection() -> None:
    async with raw_server(echo_target) as server, upstream_at(server.url) as up:
        answers = await fetch_all(up, ["/1", "/2", "/3", "/4"])
    assert [answer.body for answer in answers] == [b"/1", b"/2", b"/3", b"/4"]
    assert server.connections == 1


async def test_an_aiohttp_server_keeps_one_connection(aiohttp_server: ServerFactory) -> None:
    transports: set[int] = set()

    async def page(request: web.Request) -> web.Response:
        transports.add(id(request.transport))
        return web.Response(body=request.raw_path.encode() * 1000)

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    server = await aiohttp_server(app)
    async with upstream_at(str(server.make_url("/"))) as up:
        answers = await fetch_all(up, ["/a", "/b?c=1", "/a"])
    assert [answer.body for answer in answers] == [
        t.encode() * 1000 for t in ("/a", "/b?c=1", "/a")
    ]
    assert len(transports) == 1


@pytest.mark.parametrize("chunks_read", [pytest.param(0, id="nothing"), pytest.param(1, id="one")])
async def test_a_body_not_read_to_its_end_closes_the_connection(chunks_read: int) -> None:
    big = reply(b"x" * 1024 * 1024)
    async with raw_server(on_path("/big", answering(big))) as server, upstream_at(server.url) as up:
        async with up.request("GET", "/big", CIMultiDict(), None) as response:
            for _ in range(chunks_read):
                assert await response.read_chunk()
        await server.wait_ended(1)
        after = await fetch(up, "/after")
    assert after.body == b"/after"
    assert server.connections == 2


def held_answer(delay: float) -> Handler:
    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        writer.write(reply(received.target.encode()))

    return handle


async def test_max_connections_bounds_the_connections_opened() -> None:
    targets = ["/1", "/2", "/3", "/4"]
    async with (
        raw_server(held_answer(0.05)) as server,
        upstream_at(server.url, max_connections=2) as up,
    ):
        answers = await asyncio.gather(*(fetch(up, target) for target in targets))
    assert [answer.body for answer in answers] == [target.encode() for target in targets]
    assert server.connections == 2
    assert server.peak_open == 2


@pytest.mark.parametrize(
    ("release_first", "read_to_end"),
    [
        pytest.param(False, False, id="cancelled-while-waiting"),
        pytest.param(True, True, id="cancelled-once-given-an-idle-connection"),
        pytest.param(True, False, id="cancelled-once-given-room-for-a-new-one"),
    ],
)
async def test_a_cancelled_waiter_does_not_keep_the_room(
    release_first: bool, read_to_end: bool
) -> None:
    """With one connection allowed and in use, two requests wait; the first is cancelled, either
    still waiting or in the same turn of the loop as the connection comes free."""
    async with raw_server(echo_target) as server, upstream_at(server.url, max_connections=1) as up:
        async with up.request("GET", "/holder", CIMultiDict(), None) as holder:
            waiting = asyncio.create_task(fetch(up, "/cancelled"))
            later = asyncio.create_task(fetch(up, "/later"))
            await asyncio.sleep(0)  # both reach the pool and wait for room
            if not release_first:
                waiting.cancel()
            if read_to_end:
                assert await holder.read_chunk() == b"/holder"
                assert await holder.read_chunk() == b""
        waiting.cancel()  # no-op if already cancelled; otherwise before it runs again
        async with asyncio.timeout(WAIT):
            answer = await later
        with pytest.raises(asyncio.CancelledError):
            await waiting
        again = await fetch(up, "/again")
    assert (answer.body, again.body) == (b"/later", b"/again")
    assert server.targets == ["/holder", "/later", "/again"]


# -- kept-alive connections the server closed --------------------------------------------------


async def close_after_answer(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(received.target.encode()))
    writer.close()


async def close_when_idle(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(received.target.encode()))
    asyncio.get_running_loop().call_later(0.05, writer.close)


@pytest.mark.parametrize(
    ("handler", "pause"),
    [
        pytest.param(close_after_answer, 0.0, id="right-after-the-answer"),
        pytest.param(close_when_idle, 0.2, id="after-a-short-idle-time"),
    ],
)
async def test_a_connection_the_server_closed_while_idle_is_not_used(
    handler: Handler, pause: float
) -> None:
    """Closed right after the answer, the client has not seen the close when it writes again: the
    request goes out on a dead connection and is sent again on a fresh one. Closed a while
    before, the client saw it and opens a fresh one at once. Either way the server sees it once."""
    async with raw_server(handler) as server, upstream_at(server.url) as up:
        first = await fetch(up, "/one")
        await asyncio.sleep(pause)
        second = await fetch(up, "/two")
    assert [first.body, second.body] == [b"/one", b"/two"]
    assert server.targets == ["/one", "/two"]  # each request reached the server exactly once
    assert server.connections == 2


def dropping(after: int, per_connection: bool) -> Handler:
    """Answers the first `after` requests (on each connection, or in all); closes on the rest."""
    answered: dict[int, int] = {}

    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        key = received.conn if per_connection else 0
        answered[key] = answered.get(key, 0) + 1
        if answered[key] > after:
            writer.close()
        else:
            writer.write(reply(received.target.encode()))

    return handle


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_a_kept_connection_closed_unanswered_is_retried_once_on_a_fresh_one(
    method: str,
) -> None:
    async with (
        raw_server(dropping(1, per_connection=True)) as server,
        upstream_at(server.url) as up,
    ):
        await fetch(up, "/one")
        answer = await fetch(up, "/two", method=method)
    assert answer.status == 200
    assert [(request.conn, request.target) for request in server.requests] == [
        (0, "/one"),
        (0, "/two"),
        (1, "/two"),
    ]


async def test_a_retry_closed_unanswered_raises_upstream_unavailable() -> None:
    async with (
        raw_server(dropping(1, per_connection=False)) as server,
        upstream_at(server.url) as up,
    ):
        await fetch(up, "/one")
        with pytest.raises(UpstreamUnavailable, match="closed before an answer") as raised:
            await fetch(up, "/two")
    assert raised.value.status == 502
    assert server.targets == ["/one", "/two", "/two"]
    assert server.connections == 2


async def test_a_fresh_connection_closed_unanswered_is_not_retried() -> None:
    async with (
        raw_server(dropping(0, per_connection=False)) as server,
        upstream_at(server.url) as up,
    ):
        with pytest.raises(UpstreamUnavailable, match="closed before an answer"):
            await fetch(up, "/once")
    assert server.targets == ["/once"]


# -- errors ------------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on once the probe is closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def full_backlog() -> Iterator[int]:
    """A listening port that never accepts and whose accept queue is full: a SYN gets no answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers: list[socket.socket] = []
    try:
        for _ in range(16):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            filler.connect_ex(("127.0.0.1", port))
            if not select.select([], [filler], [], 0.1)[1]:  # this one's SYN went unanswered
                yield port
                return
        pytest.skip("this kernel answers connections beyond a full accept queue")
    finally:
        for sock in [*fillers, listener]:
            sock.close()


async def test_a_refused_connection_raises_upstream_unavailable() -> None:
    async with upstream_at(f"http://127.0.0.1:{free_port()}") as up:
        with pytest.raises(UpstreamUnavailable, match="cannot connect") as raised:
            await fetch(up)
    assert raised.value.status == 502


async def test_a_connect_past_connect_timeout_raises_upstream_timeout() -> None:
    with full_backlog() as port:
        async with upstream_at(f"http://127.0.0.1:{port}", connect_timeout=SHORT) as up:
            with pytest.raises(UpstreamTimeout, match=r"timed out$") as raised:
                await fetch(up)
    assert raised.value.status == 504


def stalling(data: bytes) -> Handler:
    """Sends `data`, then nothing more while the connection is open."""

    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await asyncio.sleep(WAIT * 2)

    return handle


def padded(lines: int, size: int) -> bytes:
    """An answer whose head carries `lines` header lines of `size` bytes each, CRLF included."""
    pad = b"".join(b"X-Pad-%05d: " % n + b"p" * (size - 15) + b"\r\n" for n in range(lines))
    return reply(b"ok", head=b"HTTP/1.1 200 OK\r\n" + pad)


BROKEN = [
    pytest.param(never_answering(), False, UpstreamTimeout, "timed out$", id="no-answer"),
    pytest.param(
        stalling(b"HTTP/1.1 200 OK\r\nContent-Le"),
        False,
        UpstreamTimeout,
        "timed out$",
        id="stall-in-head",
    ),
    pytest.param(
        stalling(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"),
        True,
        UpstreamTimeout,
        "reading body: timed out$",
        id="stall-mid-body",
    ),
    pytest.param(
        answering(b"SSH-2.0-OpenSSH_9.6\r\n"), False, UpstreamUnavailable, "malformed", id="garbage"
    ),
    pytest.param(
        answering(b"\x16\x03\x01\x00\xa5\x01\x00"),
        False,
        UpstreamUnavailable,
        "malformed",
        id="tls",
    ),
    pytest.param(
        answering(padded(70, 1000)), False, UpstreamUnavailable, "head over", id="head-over-64k"
    ),
    pytest.param(
        answering(padded(1, 17 * 1024)), False, UpstreamUnavailable, "line over", id="line-over-16k"
    ),
    pytest.param(
        answering(b"HTTP/1.1 200 OK\r\nContent-Le", close=True),
        False,
        UpstreamUnavailable,
        "closed during the answer$",
        id="closed-in-head",
    ),
    pytest.param(
        answering(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", close=True),
        True,
        UpstreamUnavailable,
        "reading body: connection closed during the answer$",
        id="closed-mid-body",
    ),
    pytest.param(
        answering(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nshort\r\n", close=True
        ),
        True,
        UpstreamUnavailable,
        "reading body: connection closed during the answer$",
        id="closed-between-chunks",
    ),
]


@pytest.mark.parametrize(("handler", "has_head", "error", "message"), BROKEN)
async def test_a_failed_answer_raises_the_upstream_error(
    handler: Handler, has_head: bool, error: type[Exception], message: str
) -> None:
    """The failed connection is not reused: the next request opens another."""
    heads: list[int] = []
    async with (
        raw_server(on_path("/broken", handler)) as server,
        upstream_at(server.url, read_timeout=SHORT) as up,
    ):
        with pytest.raises(error, match=message) as raised:
            async with up.request("GET", "/broken", CIMultiDict(), None) as response:
                heads.append(response.status)
                async for _ in chunks_of(response.read_chunk):
                    pass
        after = await fetch(up, "/after")
    assert type(raised.value) is error
    assert heads == ([200] if has_head else [])
    assert after.body == b"/after"
    assert server.targets == ["/broken", "/after"]
    assert server.connections == 2


FITTING = [
    pytest.param(padded(1, 15 * 1024), id="a-15k-line"),
    pytest.param(padded(60, 1000), id="a-60k-head"),
    pytest.param(padded(4, 15 * 1024), id="four-15k-lines"),
]


@pytest.mark.parametrize("data", FITTING)
async def test_a_head_within_the_limits_is_read(data: bytes) -> None:
    async with raw_server(answering(data)) as server, upstream_at(server.url) as up:
        answer = await fetch(up)
    assert (answer.status, answer.body) == (200, b"ok")
    assert answer.headers == fields_of(data)


async def short_lines_over_the_limit(received: Received, writer: asyncio.StreamWriter) -> None:
    """A head of 66 KB in 12-byte lines: 64.8 KB of it, then 1.3 KB and its end in a later read."""
    lines = [b"X-%05d: y\r\n" % n for n in range(5510)]
    writer.write(b"HTTP/1.1 200 OK\r\n" + b"".join(lines[:-110]))
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(b"".join(lines[-110:]) + b"Content-Length: 2\r\n\r\nok")


async def test_a_head_over_64k_in_short_lines_is_refused() -> None:
    handler = on_path("/broken", short_lines_over_the_limit)
    async with raw_server(handler) as server, upstream_at(server.url) as up:
        with pytest.raises(UpstreamUnavailable):
            await fetch(up, "/broken")


async def test_the_error_names_the_limit_passed() -> None:
    async with raw_server(answering(padded(1, 17 * 1024))) as server, upstream_at(server.url) as up:
        with pytest.raises(UpstreamUnavailable, match=r"too long|over"):
            await fetch(up)


# -- the other client: requests with a body, methods that are not idempotent ---------------------


async def parts(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


OTHER_CLIENT = [
    pytest.param("POST", (b"a=1", b"&b=2"), id="post-with-a-body"),
    pytest.param("PUT", (b"x" * 100_000,), id="put-with-a-body"),
    pytest.param("GET", (b"odd but allowed",), id="get-with-a-body"),
    pytest.param("POST", None, id="post-without-a-body"),
    pytest.param("DELETE", None, id="delete-without-a-body"),
    pytest.param("PATCH", None, id="patch-without-a-body"),
]


@pytest.mark.parametrize(("method", "chunks"), OTHER_CLIENT)
async def test_other_requests_go_through_the_other_client(
    aiohttp_server: ServerFactory, method: str, chunks: tuple[bytes, ...] | None
) -> None:
    async def anything(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(
            status=201,
            reason="Made",
            body=b"%s %s %d" % (request.method.encode(), request.raw_path.encode(), len(body)),
            headers={"X-Got": request.headers.get("X-Sent", "")},
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    server = await aiohttp_server(app)
    sent = b"".join(chunks or ())
    async with upstream_at(str(server.make_url("/shop"))) as up:
        answer = await fetch(
            up,
            "/a%20b;v=1?q=%2F",
            method=method,
            headers=[("X-Sent", "yes")],
            body=parts(*chunks) if chunks is not None else None,
        )
    assert (answer.status, answer.reason, dict(answer.headers)["X-Got"]) == (201, "Made", "yes")
    assert answer.body == b"%s /shop/a%%20b;v=1?q=%%2F %d" % (method.encode(), len(sent))


async def test_the_other_client_maps_a_refused_connection() -> None:
    async with upstream_at(f"http://127.0.0.1:{free_port()}") as up:
        with pytest.raises(UpstreamUnavailable, match="cannot connect"):
            await fetch(up, "/", method="POST", body=parts(b"x"))


# -- on the proxy's event loop -------------------------------------------------------------------


def test_on_uvloop() -> None:
    """The proxy runs on uvloop, whose transports are not asyncio's classes."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> tuple[list[bytes], int, int]:
        async with raw_server(held_answer(0.01)) as server:
            async with upstream_at(server.url, max_connections=2) as up:
                answers = await fetch_all(up, ["/one", "/two"])
                answers += await asyncio.gather(*(fetch(up, t) for t in ("/3", "/4", "/5")))
                async with up.request("GET", "/unread", CIMultiDict(), None):
                    pass  # its connection is closed, not kept
                answers += await asyncio.gather(*(fetch(up, t) for t in ("/6", "/7")))
            return [answer.body for answer in answers], server.connections, server.peak_open

    bodies, connections, peak = uvloop.run(scenario())
    assert bodies == [b"/one", b"/two", b"/3", b"/4", b"/5", b"/6", b"/7"]
    assert peak == 2
    assert connections == 3  # the two the limit allows, and one for a body left unread
