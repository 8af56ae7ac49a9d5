"""The catch-all route: send the request upstream as the client sent it, hand the answer on.

The request line and body go as received (the body streamed, never decompressed,
counted against the cap); headers lose their hop-by-hop members and gain the
proxy's X-Forwarded-* and X-Request-Id. Redirects are the client's to follow.
An upstream that cannot be reached or does not answer in time gets the client a
small 502 or 504 page, and the log line says why.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web
from multidict import CIMultiDict

from proxy import metrics, pipeline, send, websocket
from proxy.headers import upstream_request_headers
from proxy.limits import BodyTooLarge
from proxy.pipeline import EXCHANGE, Exchange
from proxy.runtime import RUNTIME, Runtime
from proxy.upstream import UpstreamError


class BodyMeter:
    """Streams the request body towards the upstream and remembers if it passed the cap."""

    def __init__(self, request: web.Request, cap: int) -> None:
        self._request = request
        self._cap = cap
        self.exceeded = False

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._request.content.iter_any():
            seen += len(chunk)
            if seen > self._cap:
                self.exceeded = True
                raise BodyTooLarge(f"request body over {self._cap} bytes")
            yield chunk


async def forward(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    ex: Exchange = request[EXCHANGE]
    if websocket.is_upgrade(request):
        return await websocket.bridge(rt, ex)
    cap = rt.config.server.request_body_max_bytes
    if request.content_length is not None and request.content_length > cap:
        return _too_large(ex, "declared body over the cap")
    meter = BodyMeter(request, cap) if request.body_exists else None
    headers = _headers(rt, ex)
    started = time.perf_counter()
    try:
        body = meter.chunks() if meter is not None else None
        async with rt.upstream.request(request.method, _target(request), headers, body) as up:
            ex.record.upstream_ms = round((time.perf_counter() - started) * 1000, 2)
            if meter is not None and meter.exceeded:
                return _too_large(ex, "body over the cap")
            return await pipeline.respond(rt, ex, up)
    except UpstreamError as exc:
        if meter is not None and meter.exceeded:
            return _too_large(ex, "body over the cap")
        return _upstream_failed(ex, exc)


def _target(request: web.Request) -> str:
    """The request target as the client encoded it (an absolute-form target loses its origin)."""
    return request.rel_url.raw_path_qs


def _headers(rt: Runtime, ex: Exchange) -> CIMultiDict[str]:
    origin = ex.origin
    forwarded = {
        "X-Forwarded-For": origin.forwarded_for,
        "X-Forwarded-Proto": origin.scheme,
        "X-Forwarded-Host": origin.host,
        "X-Request-Id": ex.record.request_id,
    }
    host = ex.request.headers.get("Host") if rt.config.server.preserve_host else None
    return upstream_request_headers(ex.request.headers, forwarded=forwarded, host=host)


def _too_large(ex: Exchange, reason: str) -> web.Response:
    ex.record.outcome, ex.record.reason = "too_large", reason
    response = send.error_page(413)
    response.force_close()
    return response


def _upstream_failed(ex: Exchange, exc: UpstreamError) -> web.Response:
    kind = "timeout" if exc.status == 504 else "unavailable"
    metrics.UPSTREAM_ERRORS.labels(kind).inc()
    ex.record.outcome, ex.record.reason = "upstream_error", str(exc)
    return send.error_page(exc.status)
