"""WebSocket pass-through: two legs, each with its own handshake, messages relayed as they come.

The upstream leg is opened first, so a refused upgrade never leaves the client
with an accepted one; the subprotocol the upstream picked is offered to the
client. Pings, pongs and close codes are relayed as they are (autoping is off
on both legs); 1005/1006, which cannot be sent, become 1011 on the other leg.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from proxy import send
from proxy.headers import upstream_request_headers, websocket_request_headers
from proxy.pipeline import Exchange
from proxy.runtime import Runtime
from proxy.upstream import UpstreamError

MAX_MESSAGE = 4 * 1024 * 1024
UNSENDABLE_CLOSE = frozenset({1005, 1006, 1015})

Leg = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


def is_upgrade(request: web.BaseRequest) -> bool:
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() == "websocket"
        and "upgrade" in request.headers.get("Connection", "").lower()
    )


async def bridge(rt: Runtime, ex: Exchange) -> web.StreamResponse:
    request = ex.request
    protocols = tuple(
        p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()
    )
    headers = websocket_request_headers(
        upstream_request_headers(
            request.headers,
            forwarded={
                "X-Forwarded-For": ex.origin.forwarded_for,
                "X-Forwarded-Proto": ex.origin.scheme,
                "X-Forwarded-Host": ex.origin.host,
                "X-Request-Id": ex.record.request_id,
            },
            host=request.headers.get("Host") if rt.config.server.preserve_host else None,
        )
    )
    ex.record.outcome = "websocket"
    try:
        async with rt.upstream.websocket(
            request.rel_url.raw_path_qs, headers, protocols, MAX_MESSAGE
        ) as upstream:
            client = web.WebSocketResponse(
                protocols=(upstream.protocol,) if upstream.protocol else (),
                autoping=False,
                max_msg_size=MAX_MESSAGE,
            )
            await client.prepare(request)
            rt.websockets.add(client)
            try:
                await _relay(client, upstream)
            finally:
                rt.websockets.discard(client)
            return client
    except UpstreamError as exc:
        ex.record.outcome, ex.record.reason = "upstream_error", str(exc)
        return send.error_page(exc.status)


async def _relay(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    tasks = {
        asyncio.ensure_future(_pump(client, upstream)),
        asyncio.ensure_future(_pump(upstream, client)),
    }
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if not client.closed:
            await client.close(code=_close_code(upstream.close_code))
        if not upstream.closed:
            await upstream.close(code=_close_code(client.close_code))


async def _pump(source: Leg, sink: Leg) -> None:
    """Relay messages from `source` to `sink` until `source` closes."""
    async for message in source:
        if message.type == WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type == WSMsgType.PING:
            await sink.ping(message.data)
        elif message.type == WSMsgType.PONG:
            await sink.pong(message.data)
    # `async for` ends on CLOSE/CLOSED/ERROR; the caller closes the other leg with the code.


def _close_code(code: int | None) -> int:
    if code is None or code in UNSENDABLE_CLOSE:
        return WSCloseCode.INTERNAL_ERROR if code is not None else WSCloseCode.OK
    return code
