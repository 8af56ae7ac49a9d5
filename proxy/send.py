"""Writing responses to the client: upstream streams, buffered pages and the proxy's error pages."""

from __future__ import annotations

import logging

from aiohttp import web
from multidict import CIMultiDict

from proxy import metrics
from proxy.logs import RequestRecord, log_event
from proxy.upstream import UpstreamError, UpstreamResponse

# The most written to a client before waiting for it to take the previous bytes: a chunk
# read from the upstream goes in one write (a write is a system call, the largest cost of
# streaming a page); only the bytes read before streaming began (up to the rewrite cap)
# are sliced.
WRITE_SLICE = 256 * 1024

ERROR_PAGES: dict[int, tuple[str, str]] = {
    413: ("Payload Too Large", "The request body is too large."),
    502: ("Bad Gateway", "The site is not reachable at the moment."),
    504: ("Gateway Timeout", "The site took too long to answer."),
}


class ProxiedResponse(web.StreamResponse):
    """An upstream response streamed to the client as it arrives."""

    def __init__(self, *, status: int, reason: str, headers: CIMultiDict[str]) -> None:
        super().__init__(status=status, reason=reason or None, headers=headers)
        self.untyped = "Content-Type" not in headers
        """The upstream sent no Content-Type: none is added (browsers sniff such bodies)."""


async def keep_untyped(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: undo aiohttp's default Content-Type on proxied responses."""
    if isinstance(response, ProxiedResponse) and response.untyped:
        response.headers.popall("Content-Type", None)


async def stream(
    request: web.Request,
    up: UpstreamResponse,
    headers: CIMultiDict[str],
    record: RequestRecord,
    *,
    prefix: bytes = b"",
    head: bytearray | None = None,
    head_limit: int = 0,
) -> web.StreamResponse:
    """Send `prefix` (bytes already read) then the rest of the body, chunk by chunk, unbuffered.

    `head`, when given, collects the first `head_limit` bytes sent. A failure of the
    upstream once the status line is out cannot become an error page: the connection
    is closed, so the client sees a truncated body rather than a wrong one.
    """
    response = ProxiedResponse(status=up.status, reason=up.reason, headers=headers)
    await response.prepare(request)
    sent = 0
    try:
        chunk = prefix
        while True:
            if chunk:
                if head is not None and len(head) < head_limit:
                    head += chunk[: head_limit - len(head)]
                await _write(response, chunk)
                sent += len(chunk)
            chunk = await up.read_chunk()
            if not chunk:
                break
        await response.write_eof()
    except UpstreamError as exc:
        _abort(request, record, "upstream_error", str(exc))
    except ConnectionError:
        record.reason = "client_closed"
    finally:
        record.bytes = sent
        metrics.BYTES_IN.inc(sent)
        metrics.BYTES_OUT.inc(sent)
    return response


async def _write(response: web.StreamResponse, chunk: bytes) -> None:
    """Write in slices, each waiting for the client: a slow client holds one slice, not a chunk."""
    if len(chunk) <= WRITE_SLICE:
        await response.write(chunk)
        return
    view = memoryview(chunk)
    for start in range(0, len(chunk), WRITE_SLICE):
        await response.write(view[start : start + WRITE_SLICE])


def _abort(request: web.Request, record: RequestRecord, outcome: str, reason: str) -> None:
    record.outcome, record.reason = outcome, reason
    log_event("stream_aborted", logging.WARNING, request_id=record.request_id, reason=reason)
    if request.transport is not None:
        request.transport.close()


async def page(
    request: web.Request,
    record: RequestRecord,
    up: UpstreamResponse,
    headers: CIMultiDict[str],
    body: bytes,
) -> web.StreamResponse:
    """A buffered page, written now (so the memory it holds is given back once it is sent)."""
    headers.popall("Content-Length", None)
    response = web.StreamResponse(status=up.status, reason=up.reason or None, headers=headers)
    response.content_length = len(body)
    try:
        await response.prepare(request)
        await response.write_eof(body)
    except ConnectionError:
        record.reason = "client_closed"
    record.bytes = len(body)
    metrics.BYTES_OUT.inc(len(body))
    return response


def error_page(status: int) -> web.Response:
    """A small generic page: never the upstream's address or an exception's text."""
    title, text = ERROR_PAGES[status]
    body = f"<!DOCTYPE html><title>{status} {title}</title><h1>{title}</h1><p>{text}</p>\n"
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )
