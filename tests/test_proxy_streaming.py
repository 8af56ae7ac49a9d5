"""Websockets and server-sent events through the proxy, unbuffered."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import WSMsgType, web
from harness import running_proxy, running_site


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("chat.v2",), autoping=False)
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            if message.data == "bye":
                await ws.close(code=4404, message=b"gone")
                break
            await ws.send_str(f"echo:{message.data}:{request.headers.get('X-Forwarded-For')}")
        elif message.type == WSMsgType.BINARY:
            await ws.send_bytes(message.data[::-1])
        elif message.type == WSMsgType.PING:
            await ws.pong(message.data)
    return ws


async def test_websocket_echo_through_the_proxy() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.handlers["/ws"] = echo
        async with proxy.client.ws_connect(
            proxy.at("/ws?room=1"), protocols=("chat.v1", "chat.v2"), autoping=False
        ) as ws:
            assert ws.protocol == "chat.v2"
            await ws.send_str("hello")
            assert (await ws.receive_str(timeout=5)) == "echo:hello:127.0.0.1"
            payload = bytes(range(256)) * 4096
            await ws.send_bytes(payload)
            assert (await ws.receive_bytes(timeout=5)) == payload[::-1]
            await ws.ping(b"are-you-there")
            pong = await ws.receive(timeout=5)
            assert (pong.type, pong.data) == (WSMsgType.PONG, b"are-you-there")
            await ws.send_str("bye")
            closing = await ws.receive(timeout=5)
            assert closing.type == WSMsgType.CLOSE
            assert closing.data == 4404


async def test_refused_websocket_upgrade_is_not_accepted() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.page("/ws", "no websockets here", content_type="text/plain")
        try:
            async with proxy.client.ws_connect(proxy.at("/ws")):
                raise AssertionError("the proxy accepted an upgrade the upstream refused")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 502


async def test_server_sent_events_are_not_buffered() -> None:
    delivered = asyncio.Event()

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        # The second event waits until the client has the first: a buffering proxy deadlocks.
        await asyncio.wait_for(delivered.wait(), timeout=5)
        await response.write(b"data: second\n\n")
        await response.write_eof()
        return response

    async with running_site() as site, running_proxy(site) as proxy:
        site.handlers["/events"] = events
        async with proxy.client.get(proxy.at("/events")) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), timeout=5)
            assert first == b"data: first\n\n"
            delivered.set()
            assert await response.content.read() == b"data: second\n\n"
