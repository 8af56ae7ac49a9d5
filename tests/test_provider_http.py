"""The providers' HTTP client (`proxy.providers.http`) against real servers on loopback.

aiohttp's server shows what a request looks like when it arrives; a raw `asyncio` server
sends exact, late or broken bytes and counts the connections the client opens.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from raw_http import WAIT, Handler, RawServer, Received, raw_server, reply, send

from proxy.providers.http import (
    USER_AGENT,
    Answer,
    AnswerTooLarge,
    HttpError,
    ProviderHttp,
    Target,
    target_of,
)

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


# -- a raw server ------------------------------------------------------------------------------


def track_server(
    handler: Handler, tls: ssl.SSLContext | None = None
) -> AbstractAsyncContextManager[RawServer]:
    """A raw server whose URL has a path, as a provider's endpoint has."""
    return raw_server(handler, tls, path="/track")


async def echo(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(received.body))


def answering(data: bytes, *, close: bool = False, piece: int = 0) -> Handler:
    """Answers every request with `data`, then closes the connection if `close`."""

    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        await send(writer, data, piece)
        if close:
            writer.close()

    return handle


async def post_all(http: ProviderHttp, url: str, bodies: Sequence[bytes]) -> list[Answer]:
    """One call after the other."""
    return [await http.post(url, body, {}) for body in bodies]


async def post_at_once(http: ProviderHttp, url: str, bodies: Sequence[bytes]) -> list[Answer]:
    return list(await asyncio.gather(*(http.post(url, body, {}) for body in bodies)))


def together(size: int) -> Handler:
    """Echoes once `size` requests are waiting, so the calls must be on separate connections."""
    barrier = asyncio.Barrier(size)

    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(WAIT):
            await barrier.wait()
        writer.write(reply(received.body))

    return handle


# -- the request and the answer ----------------------------------------------------------------


async def test_a_post_arrives_as_given(aiohttp_server: ServerFactory) -> None:
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def track(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        return web.Response(body=b'{"number": "+33490000000"}')

    app = web.Application()
    app.router.add_post("/v2/track", track)
    server = await aiohttp_server(app)
    body = b'{"visitor": "v-1", "raw": "\xc3\xa9\x00\xff"}'
    headers = {"Content-Type": "application/json", "Authorization": "Bearer k-1", "X-Id": "7"}
    async with ProviderHttp() as http:
        answer = await http.post(str(server.make_url("/v2/track?site=7&q=a%20b")), body, headers)

    assert answer == Answer(200, b'{"number": "+33490000000"}')
    [request] = seen
    assert request.method == "POST"
    assert request.raw_path == "/v2/track?site=7&q=a%20b"
    assert bodies == [body]
    assert {name: request.headers[name] for name in headers} == headers
    assert request.headers["Host"] == f"127.0.0.1:{server.port}"
    assert request.headers["Content-Length"] == str(len(body))
    assert request.headers["User-Agent"] == USER_AGENT


STATUSES = [
    pytest.param(200, b'{"number": "+33490000000"}', id="200"),
    pytest.param(201, b"created", id="201"),
    pytest.param(204, b"", id="204-no-body"),
    pytest.param(400, b'{"error": "bad_request"}', id="400"),
    pytest.param(401, b'{"error": "unauthorized"}', id="401"),
    pytest.param(404, b"no such site", id="404"),
    pytest.param(429, b"slow down", id="429"),
    pytest.param(500, b"", id="500-empty"),
    pytest.param(503, b"down for maintenance", id="503"),
]


@pytest.mark.parametrize(("status", "body"), STATUSES)
async def test_the_status_and_body_come_back(
    aiohttp_server: ServerFactory, status: int, body: bytes
) -> None:
    async def track(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body)

    app = web.Application()
    app.router.add_post("/track", track)
    server = await aiohttp_server(app)
    async with ProviderHttp() as http:
        answers = await post_all(http, str(server.make_url("/track")), [b"a", b"b"])
    assert answers == [Answer(status, body)] * 2


# -- keep-alive ---------------------------------------------------------------------------------


async def test_an_aiohttp_server_keeps_one_connection(aiohttp_server: ServerFactory) -> None:
    transports: list[object] = []

    async def track(request: web.Request) -> web.Response:
        transports.append(request.transport)
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/track", track)
    server = await aiohttp_server(app)
    async with ProviderHttp() as http:
        answers = await post_all(http, str(server.make_url("/track")), [b"1", b"2", b"3"])
    assert answers == [Answer(200, b"1"), Answer(200, b"2"), Answer(200, b"3")]
    assert len({id(transport) for transport in transports}) == 1


async def test_consecutive_calls_reuse_one_connection() -> None:
    async with track_server(echo) as server, ProviderHttp() as http:
        answers = await post_all(http, server.url, [b"1", b"2", b"3", b"4"])
    assert [answer.body for answer in answers] == [b"1", b"2", b"3", b"4"]
    assert server.connections == 1


async def test_calls_at_the_same_time_use_separate_connections() -> None:
    async with track_server(together(3)) as server, ProviderHttp() as http:
        first = await post_at_once(http, server.url, [b"a", b"b", b"c"])
        again = await post_at_once(http, server.url, [b"d", b"e", b"f"])
    assert [answer.body for answer in first + again] == [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert server.connections == 3


KEEP_ALIVE = [
    pytest.param(b"HTTP/1.1 200 OK\r\n", 1, id="http-1.1-default"),
    pytest.param(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n", 1, id="http-1.1-keep-alive"),
    pytest.param(b"HTTP/1.1 200 OK\r\nConnection: close\r\n", 2, id="http-1.1-close"),
    pytest.param(b"HTTP/1.0 200 OK\r\n", 2, id="http-1.0-default"),
    pytest.param(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", 1, id="http-1.0-keep-alive"),
]


@pytest.mark.parametrize(("head", "connections"), KEEP_ALIVE)
async def test_the_server_decides_whether_a_connection_is_kept(
    head: bytes, connections: int
) -> None:
    """The server never closes here: a connection it asked to close, the client closes."""
    async with track_server(answering(reply(b"ok", head=head))) as server, ProviderHttp() as http:
        answers = await post_all(http, server.url, [b"1", b"2"])
        await server.wait_ended(connections - 1)
    assert answers == [Answer(200, b"ok")] * 2
    assert server.connections == connections


@pytest.mark.parametrize(
    ("idle_timeout", "connections"),
    [pytest.param(0.05, 2, id="older-than-idle-timeout"), pytest.param(30.0, 1, id="younger")],
)
async def test_idle_connections_older_than_idle_timeout_are_not_reused(
    idle_timeout: float, connections: int
) -> None:
    async with track_server(echo) as server, ProviderHttp(idle_timeout=idle_timeout) as http:
        await http.post(server.url, b"1", {})
        await asyncio.sleep(0.15)
        answer = await http.post(server.url, b"2", {})
        await server.wait_ended(connections - 1)  # the stale one is closed, not left open
    assert answer == Answer(200, b"2")
    assert server.connections == connections


async def test_at_most_max_idle_connections_are_kept() -> None:
    async with track_server(together(4)) as server, ProviderHttp(max_idle=2) as http:
        await post_at_once(http, server.url, [b"a", b"b", b"c", b"d"])
        await server.wait_ended(2)
        await post_at_once(http, server.url, [b"e", b"f", b"g", b"h"])
    assert server.connections == 4 + 2


# -- framing ---------------------------------------------------------------------------------


HELLO = b"hello world"
FRAMINGS = [
    pytest.param(reply(HELLO), False, 1, id="content-length"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        False,
        1,
        id="chunked",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"b;ext=1\r\nhello world\r\n0\r\nX-Trailer: t\r\n\r\n",
        False,
        1,
        id="chunked-extension-trailer",
    ),
    pytest.param(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n" + HELLO, True, 2, id="end-of-connection"),
    pytest.param(b"HTTP/1.0 200 OK\r\n\r\n" + HELLO, True, 2, id="end-of-connection-http-1.0"),
    pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n" + reply(HELLO), False, 1, id="100-continue"),
    pytest.param(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n",
        False,
        1,
        id="103-early-hints-then-chunked",
    ),
    pytest.param(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n" + HELLO,
        True,
        2,
        id="100-continue-then-end-of-connection",
    ),
]


@pytest.mark.parametrize("piece", [pytest.param(0, id="whole"), pytest.param(3, id="in-pieces")])
@pytest.mark.parametrize(("data", "close", "connections"), FRAMINGS)
async def test_answers_are_read_whole(
    data: bytes, close: bool, connections: int, piece: int
) -> None:
    handler = answering(data, close=close, piece=piece)
    async with track_server(handler) as server, ProviderHttp() as http:
        answers = await post_all(http, server.url, [b"1", b"2"])
    assert answers == [Answer(200, HELLO)] * 2
    assert server.connections == connections


# -- errors ----------------------------------------------------------------------------------


LIMIT = 256


def sized(total: int) -> bytes:
    """An answer of exactly `total` bytes, headers included."""
    return next(data for n in range(total) if len(data := reply(b"x" * n)) == total)


TOO_LARGE = [
    pytest.param(reply(b"x" * 1000), False, id="content-length-body"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"64\r\n" + b"x" * 100 * 3,
        False,
        id="chunked-body",
    ),
    pytest.param(
        reply(b"ok", head=b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 500 + b"\r\n"), False, id="headers"
    ),
    pytest.param(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 1000, True, id="end-of-connection"),
    pytest.param(sized(LIMIT + 1), False, id="one-byte-over"),
]


@pytest.mark.parametrize(("data", "close"), TOO_LARGE)
async def test_an_answer_over_the_limit_raises_answer_too_large(data: bytes, close: bool) -> None:
    async def big_then_echo(received: Received, writer: asyncio.StreamWriter) -> None:
        if received.body != b"big":
            return await echo(received, writer)
        writer.write(data)
        if close:
            writer.close()

    async with track_server(big_then_echo) as server, ProviderHttp(limit=LIMIT) as http:
        with pytest.raises(AnswerTooLarge, match=f"over {LIMIT} bytes"):
            await http.post(server.url, b"big", {})
        answer = await http.post(server.url, b"small", {})
    assert answer == Answer(200, b"small")
    assert server.connections == 2


async def test_an_answer_of_exactly_the_limit_is_read() -> None:
    data = sized(LIMIT)
    async with track_server(answering(data)) as server, ProviderHttp(limit=LIMIT) as http:
        answer = await http.post(server.url, b"", {})
    assert answer.body == data.partition(b"\r\n\r\n")[2]


BROKEN = [
    pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n", False, "malformed HTTP answer", id="garbage-text"),
    pytest.param(b"\x16\x03\x01\x00\xa5\x01\x00", False, "malformed HTTP answer", id="garbage-tls"),
    pytest.param(b"HTTP/1.1 2OO OK\r\n\r\n", False, "malformed HTTP answer", id="bad-status"),
    pytest.param(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        False,
        "unexpected protocol upgrade",
        id="upgrade",
    ),
    pytest.param(b"", True, "closed before an answer", id="closed-before-an-answer"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", True, "during the answer", id="closed-in-head"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        True,
        "during the answer",
        id="closed-in-body",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        True,
        "during the answer",
        id="closed-between-chunks",
    ),
    pytest.param(
        b"HTTP/1.1 100 Continue\r\n\r\n", True, "during the answer", id="closed-after-interim"
    ),
]


@pytest.mark.parametrize(("data", "close", "message"), BROKEN)
async def test_a_broken_answer_raises_http_error(data: bytes, close: bool, message: str) -> None:
    async with track_server(answering(data, close=close)) as server, ProviderHttp() as http:
        with pytest.raises(HttpError, match=message) as raised:
            await http.post(server.url, b"once", {})
        await server.wait_ended(1)  # a connection the client gave up on is closed
    assert type(raised.value) is HttpError
    assert server.bodies == [b"once"]  # a fresh connection's failure is never retried


async def test_a_refused_connection_raises_http_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ProviderHttp() as http:
        with pytest.raises(HttpError, match="cannot connect"):
            await http.post(f"http://127.0.0.1:{port}/track", b"{}", {})


async def test_a_closed_client_refuses_calls_and_closes_idle_connections() -> None:
    async with track_server(echo) as server:
        http = ProviderHttp()
        await http.post(server.url, b"1", {})
        await http.close()
        await server.wait_ended(1)
        with pytest.raises(HttpError, match="client closed"):
            await http.post(server.url, b"2", {})
    assert server.bodies == [b"1"]


# -- connections in doubt --------------------------------------------------------------------


async def test_a_cancelled_call_closes_its_connection() -> None:
    release = asyncio.Event()

    async def late_first(received: Received, writer: asyncio.StreamWriter) -> None:
        if received.body == b"slow":
            await release.wait()
        writer.write(reply(received.body))

    async with track_server(late_first) as server, ProviderHttp() as http:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await http.post(server.url, b"slow", {})
        release.set()  # the late answer goes out on the first connection, ahead of any other
        answer = await http.post(server.url, b"fresh", {})
        await server.wait_ended(1)
    assert answer == Answer(200, b"fresh")
    assert server.connections == 2
    assert [request.conn for request in server.requests] == [0, 1]


@pytest.mark.parametrize(
    "stall",
    [
        pytest.param(b"", id="before-the-head"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npart", id="mid-body"),
    ],
)
async def test_a_call_past_its_deadline_times_out_and_closes_its_connection(stall: bytes) -> None:
    release = asyncio.Event()

    async def stalling_first(received: Received, writer: asyncio.StreamWriter) -> None:
        if received.body == b"slow":
            writer.write(stall)
            await release.wait()
            return
        writer.write(reply(received.body))

    async with track_server(stalling_first) as server, ProviderHttp() as http:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await http.post(server.url, b"slow", {}, deadline=started + 0.1)
        waited = loop.time() - started
        release.set()
        answer = await http.post(server.url, b"fresh", {}, deadline=loop.time() + WAIT)
        await server.wait_ended(1)
    assert 0.1 <= waited < WAIT
    assert answer == Answer(200, b"fresh")
    assert server.connections == 2


async def test_a_deadline_already_past_when_connecting_times_out() -> None:
    async with track_server(echo) as server, ProviderHttp() as http:
        past = asyncio.get_running_loop().time() - 1
        with pytest.raises(TimeoutError):
            await http.post(server.url, b"late", {}, deadline=past)
        answer = await http.post(server.url, b"on time", {})
    assert answer == Answer(200, b"on time")


async def close_after_answer(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(received.body))
    writer.close()


async def close_when_idle(received: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(reply(received.body))
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
    """Closed right after the answer, the client has not seen the close when it writes again, so
    the request goes out on a dead connection and is sent again; closed later, the client saw it."""
    async with track_server(handler) as server, ProviderHttp() as http:
        first = await http.post(server.url, b"one", {})
        await asyncio.sleep(pause)
        second = await http.post(server.url, b"two", {})
    assert [first.body, second.body] == [b"one", b"two"]
    assert server.bodies == [b"one", b"two"]  # each request reached the server exactly once
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
            writer.write(reply(received.body))

    return handle


async def test_a_kept_connection_closed_unanswered_is_retried_once_on_a_fresh_one() -> None:
    """The server dropped a kept connection just as the request went out: sent once more."""
    async with track_server(dropping(1, per_connection=True)) as server, ProviderHttp() as http:
        answers = await post_all(http, server.url, [b"one", b"two"])
    assert [answer.body for answer in answers] == [b"one", b"two"]
    assert [(request.conn, request.body) for request in server.requests] == [
        (0, b"one"),
        (0, b"two"),
        (1, b"two"),
    ]


async def test_a_retry_closed_unanswered_raises_http_error() -> None:
    async with track_server(dropping(1, per_connection=False)) as server, ProviderHttp() as http:
        await http.post(server.url, b"one", {})
        with pytest.raises(HttpError, match="closed before an answer"):
            await http.post(server.url, b"two", {})
    assert server.bodies == [b"one", b"two", b"two"]
    assert server.connections == 2


STRAY = [
    pytest.param(reply(b"stray"), id="an-answer"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", id="a-head"),
    pytest.param(b"garbage", id="garbage"),
]


@pytest.mark.parametrize("stray", STRAY)
async def test_bytes_sent_on_an_idle_connection_make_it_not_reused(stray: bytes) -> None:
    async def stray_later(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(received.body))
        await asyncio.sleep(0.05)
        writer.write(stray)

    async with track_server(stray_later) as server, ProviderHttp() as http:
        await http.post(server.url, b"one", {})
        await server.wait_ended(1)
        answer = await http.post(server.url, b"two", {})
    assert answer == Answer(200, b"two")
    assert server.connections == 2


def answering_own_then(stray: bytes) -> Handler:
    async def handle(received: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(reply(received.body) + stray)

    return handle


STRAY_WITH_ANSWER = [
    pytest.param(b"garbage", id="garbage"),
    pytest.param(reply(b"stray"), id="an-answer"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", id="a-head"),
]


@pytest.mark.parametrize("stray", STRAY_WITH_ANSWER)
async def test_bytes_sent_right_after_the_answer_make_it_not_reused(stray: bytes) -> None:
    """The stray bytes come in the same write as the answer, so in the same read."""
    async with track_server(answering_own_then(stray)) as server, ProviderHttp() as http:
        answers = await post_all(http, server.url, [b"one", b"two"])
    assert answers == [Answer(200, b"one"), Answer(200, b"two")]
    assert server.connections == 2


# -- https -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def _self_signed(folder: Path, name: str, alt_names: str) -> Certificate:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", f"/CN={name}",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-addext", f"subjectAltName={alt_names}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line, which makes the test certificates, is not installed")
    folder = tmp_path_factory.mktemp("tls")
    return {
        "loopback": _self_signed(folder, "loopback", "IP:127.0.0.1,DNS:localhost"),
        "elsewhere": _self_signed(folder, "elsewhere", "DNS:provider.invalid"),
    }


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context


async def test_https_with_a_trusted_certificate(certificates: dict[str, Certificate]) -> None:
    loopback = certificates["loopback"]
    trusting = ssl.create_default_context(cafile=loopback.cert)
    async with (
        track_server(echo, tls=server_context(loopback)) as server,
        ProviderHttp(ssl_context=trusting) as http,
    ):
        answers = await post_all(http, server.url, [b"1", b"2"])
    assert answers == [Answer(200, b"1"), Answer(200, b"2")]
    assert server.connections == 1


@pytest.mark.parametrize(
    ("served", "trusted"),
    [
        pytest.param("loopback", None, id="self-signed-default-trust"),
        pytest.param("elsewhere", "elsewhere", id="trusted-for-another-host-name"),
    ],
)
async def test_https_refuses_an_untrusted_certificate(
    certificates: dict[str, Certificate], served: str, trusted: str | None
) -> None:
    context = ssl.create_default_context(cafile=certificates[trusted].cert) if trusted else None
    async with (
        track_server(echo, tls=server_context(certificates[served])) as server,
        ProviderHttp(ssl_context=context) as http,
    ):
        with pytest.raises(HttpError, match="cannot connect"):
            await http.post(server.url, b"secret", {})
    assert server.requests == []


# -- what the client refuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Key": "k\r\nX-Injected: 1"}, id="crlf-in-value"),
        pytest.param({"X-Key": "k\nX-Injected: 1"}, id="lf-in-value"),
        pytest.param({"X-Key": "k\rX-Injected: 1"}, id="cr-in-value"),
        pytest.param({"X-Key\r\nX-Injected": "1"}, id="crlf-in-name"),
    ],
)
async def test_a_header_with_a_line_break_raises_value_error_before_sending(
    headers: dict[str, str],
) -> None:
    async with track_server(echo) as server, ProviderHttp() as http:
        with pytest.raises(ValueError, match="line break"):
            await http.post(server.url, b"first", headers)
        await http.post(server.url, b"kept", {})
        with pytest.raises(ValueError, match="line break"):
            await http.post(server.url, b"on a kept connection", headers)
        await http.post(server.url, b"still kept", {})
    assert server.bodies == [b"kept", b"still kept"]
    assert server.connections == 1


@pytest.mark.parametrize(
    "name", ["Host", "content-length", "Transfer-Encoding", "User-Agent", "Connection"]
)
async def test_headers_the_client_writes_itself_are_refused(name: str) -> None:
    """A second Host or Content-Length would make the request ambiguous to the server."""
    async with track_server(echo) as server, ProviderHttp() as http:
        with pytest.raises(ValueError, match="client's to write"):
            await http.post(server.url, b"first", {name: "1"})
    assert server.requests == []


TARGETS = [
    pytest.param(
        "http://provider.test/v1/track",
        Target("http", "provider.test", 80, "provider.test", "/v1/track"),
        id="http-default-port",
    ),
    pytest.param(
        "https://api.provider.test/v1/track",
        Target("https", "api.provider.test", 443, "api.provider.test", "/v1/track"),
        id="https-default-port",
    ),
    pytest.param(
        "http://127.0.0.1:8080/a",
        Target("http", "127.0.0.1", 8080, "127.0.0.1:8080", "/a"),
        id="explicit-port",
    ),
    pytest.param(
        "https://h.test:443/a",
        Target("https", "h.test", 443, "h.test", "/a"),
        id="explicit-default",
    ),
    pytest.param(
        "https://h.test:80/a", Target("https", "h.test", 80, "h.test:80", "/a"), id="other-default"
    ),
    pytest.param(
        "http://[::1]:8080/a", Target("http", "::1", 8080, "[::1]:8080", "/a"), id="ipv6-with-port"
    ),
    pytest.param(
        "https://[2001:db8::1]/a",
        Target("https", "2001:db8::1", 443, "[2001:db8::1]", "/a"),
        id="ipv6-default-port",
    ),
    pytest.param(
        "https://h.test/track?site=7&q=a%20b",
        Target("https", "h.test", 443, "h.test", "/track?site=7&q=a%20b"),
        id="query-kept",
    ),
    pytest.param("https://h.test", Target("https", "h.test", 443, "h.test", "/"), id="no-path"),
    pytest.param(
        "https://h.test?q=1", Target("https", "h.test", 443, "h.test", "/?q=1"), id="query-no-path"
    ),
    pytest.param(
        "https://h.test/p#top",
        Target("https", "h.test", 443, "h.test", "/p"),
        id="fragment-dropped",
    ),
    pytest.param(
        "https://user:pw@h.test/p",
        Target("https", "h.test", 443, "h.test", "/p"),
        id="credentials-not-in-host",
    ),
    pytest.param(
        "HTTPS://API.Provider.TEST/V1",
        Target("https", "api.provider.test", 443, "api.provider.test", "/V1"),
        id="case-folded-host",
    ),
]


@pytest.mark.parametrize(("url", "target"), TARGETS)
def test_target_of(url: str, target: Target) -> None:
    assert target_of(url) == target


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/v1/track", id="relative"),
        pytest.param("//h.test/v1/track", id="scheme-relative"),
        pytest.param("ftp://h.test/file", id="ftp"),
        pytest.param("mailto:someone@h.test", id="mailto"),
        pytest.param("http:///v1/track", id="no-host"),
        pytest.param("h.test:8080/v1", id="no-scheme"),
        pytest.param("http://h.test:99999/", id="port-out-of-range"),
        pytest.param("", id="empty"),
    ],
)
def test_target_of_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        target_of(url)


# -- on the proxy's event loop -------------------------------------------------------------------


def test_on_uvloop() -> None:
    """The proxy runs on uvloop, whose transports are not asyncio's classes."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> tuple[list[Answer], int]:
        async with track_server(echo) as server, ProviderHttp() as http:
            answers = await post_all(http, server.url, [b"one", b"two"])
            answers += await post_at_once(http, server.url, [b"three", b"four"])
            return answers, server.connections

    answers, connections = uvloop.run(scenario())
    assert answers == [Answer(200, body) for body in (b"one", b"two", b"three", b"four")]
    assert connections == 2
