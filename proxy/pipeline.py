"""The response pipeline: what the client gets for an upstream response.

Theory of operation. A response is a page view when it answers a GET with 200,
an HTML content type, no `Cache-Control: no-transform` and no attachment
disposition; everything else streams through as it comes. A page view from a
person whose path a rule covers is buffered up to the cap, decoded, scanned
(`rules.scan`), shown to the provider, rendered and encoded again; the steps
are the plain functions below, run in order by `respond`. A page view no rule
covers streams through unchanged and is recorded with the provider in the
background, as is a covered page on which no configured phone was found.

This is the one place that decides to fail open. What the client receives:

- not a page view (HEAD, 204, 206, 304, non-HTML, download, no-transform):
  the upstream response, streamed, unchanged;
- a crawler or a prefetch/prerender: the upstream response, streamed, no provider call;
- body over the cap (declared, or found while reading): the upstream headers,
  the bytes read so far, then the rest, streamed; never truncated;
- content coding unknown, stacked or corrupt, or decoded body over the cap:
  the upstream bytes and headers unchanged;
- scanner, renderer or provider client exception (a bug): the upstream bytes and
  headers unchanged, and the traceback logged;
- no configured phone on the page: the upstream bytes unchanged (plus the visit
  cookies), the view recorded in the background;
- provider timeout, error, garbage, WARNING, open breaker or saturation: the
  numbers the provider did assign (direct display), else the upstream bytes
  unchanged; a click-display page is only given reveal buttons when the view
  was recorded;
- upstream failing mid-body: the connection is closed (see `send.stream`).

Each fail-open sets the request's outcome and reason: one log line says why.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from proxy import codec, cookies, metrics, pageview, rewrite, send
from proxy.forwarded import Origin
from proxy.headers import (
    cache_directives,
    client_response_headers,
    content_type_charset,
    media_type,
)
from proxy.limits import Hold
from proxy.logs import EVENTS, RequestRecord
from proxy.providers.base import Provider, ViewResult
from proxy.runtime import Runtime
from proxy.upstream import UpstreamResponse
from rules import Page, scan
from rules.config import Rule

REWRITABLE_TYPES: frozenset[str] = frozenset({"text/html", "application/xhtml+xml"})
# What a page costs in memory while it is rewritten: the upstream's bytes, the rewritten
# page and its encoding. Pages wait this long for room in the budget, then pass unchanged.
FOOTPRINT = 3
BUDGET_WAIT = 1.0


@dataclass
class Exchange:
    """One request on its way through the proxy."""

    request: web.Request
    origin: Origin
    record: RequestRecord


EXCHANGE = web.RequestKey("dni_exchange", Exchange)


def is_page_view(method: str, status: int, headers: Mapping[str, str]) -> bool:
    """GET, 200, HTML, transformable, not a download."""
    return (
        method == "GET"
        and status == 200
        and media_type(headers) in REWRITABLE_TYPES
        and "no-transform" not in cache_directives(headers)
        and not headers.get("Content-Disposition", "").lower().startswith("attachment")
    )


async def respond(rt: Runtime, ex: Exchange, up: UpstreamResponse) -> web.StreamResponse:
    """The client's response for the upstream's `up`, by the rules in the module docstring."""
    headers = client_response_headers(up.headers)
    if not is_page_view(ex.request.method, up.status, up.headers):
        return await send.stream(ex.request, up, headers, ex.record)
    robot = pageview.is_robot(ex.request)
    if robot is not None:
        ex.record.outcome = robot
        return await send.stream(ex.request, up, headers, ex.record)
    rule = rt.config.rule_for(ex.request.path)
    if rule is None:
        return await _uncovered(rt, ex, up, headers)
    cap = rt.config.server.rewrite_max_bytes
    if up.content_length is not None and up.content_length > cap:
        return await _stream_rest(ex, up, headers, b"", "over_cap")
    async with rt.budget.hold(BUDGET_WAIT) as hold:
        raw, stopped = await _buffer(up, cap, hold)
        if stopped is not None:
            return await _stream_rest(ex, up, headers, raw, stopped)
        metrics.BYTES_IN.inc(len(raw))
        return await _page(rt, ex, up, headers, rule, raw, hold)


async def _buffer(up: UpstreamResponse, cap: int, hold: Hold) -> tuple[bytes, str | None]:
    """The whole body; or what was read, and why reading stopped: "over_cap" or "busy"."""
    declared = up.content_length
    if declared is not None and not await hold.take(declared * FOOTPRINT):
        return b"", "busy"
    chunks: list[bytes] = []  # joined once at the end: a page is copied once, not twice
    size = 0
    while chunk := await up.read_chunk():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks), "over_cap"
        if declared is None and not await hold.take(len(chunk) * FOOTPRINT):
            return b"".join(chunks), "busy"
    return chunks[0] if len(chunks) == 1 else b"".join(chunks), None


async def _stream_rest(
    ex: Exchange, up: UpstreamResponse, headers: CIMultiDict[str], read: bytes, reason: str
) -> web.StreamResponse:
    """The bytes already read, then the rest as it comes: never truncated."""
    _fail_open(ex.record, reason)
    return await send.stream(ex.request, up, headers, ex.record, prefix=read)


async def _uncovered(
    rt: Runtime, ex: Exchange, up: UpstreamResponse, headers: CIMultiDict[str]
) -> web.StreamResponse:
    """A page no rule covers: streamed unchanged, recorded in the background from its head."""
    provider = rt.provider_for(None)
    if provider is None:
        return await send.stream(ex.request, up, headers, ex.record)
    key = _visitor_cookie(ex, headers)
    head = bytearray()
    ex.record.outcome = "page_view"
    response = await send.stream(
        ex.request, up, headers, ex.record, head=head, head_limit=pageview.TITLE_PREFIX
    )
    coding = _coding_or_none(up.headers)
    if ex.record.outcome == "page_view" and coding is not None:
        title = pageview.title_of(bytes(head), coding, content_type_charset(up.headers))
        _record_later(rt, ex, provider, key, title, None)
    return response


async def _page(
    rt: Runtime,
    ex: Exchange,
    up: UpstreamResponse,
    headers: CIMultiDict[str],
    rule: Rule,
    raw: bytes,
    hold: Hold,
) -> web.StreamResponse:
    started = time.perf_counter()
    coding = _coding_or_none(up.headers)
    html = await _decode(rt, ex, raw, coding, hold)
    page = _scan(rt, ex, rule, up, html) if html is not None else None
    if coding is None or page is None:
        return await send.page(ex.request, ex.record, up, headers, raw)
    ex.record.phones_found = len(page.phones)
    provider = rt.providers[rule.provider]
    if not page.phones:
        key = _visitor_cookie(ex, headers)
        _record_later(rt, ex, provider, key, page.title, rule)
        ex.record.outcome = "no_phone"
        return await send.page(ex.request, ex.record, up, headers, raw)
    spent = time.perf_counter() - started
    key, _ = cookies.visitor_key(ex.request.cookies)
    result = await _ask(ex, provider, key, page, rule)
    _add_cookies(ex, headers, {cookies.VISITOR_COOKIE: key, **result.set_cookies})
    scanned = Scanned(raw=raw, coding=coding, page=page, rule=rule, spent=spent)
    return await _rewrite(rt, ex, up, headers, scanned, result)


@dataclass(frozen=True)
class Scanned:
    """A page read, decoded and scanned: what rendering needs besides the provider's answer."""

    raw: bytes
    """The upstream's bytes, as sent (still encoded)."""
    coding: str
    page: Page
    rule: Rule
    spent: float
    """Seconds spent so far on decoding and scanning."""


async def _rewrite(
    rt: Runtime,
    ex: Exchange,
    up: UpstreamResponse,
    headers: CIMultiDict[str],
    scanned: Scanned,
    result: ViewResult,
) -> web.StreamResponse:
    """Render with the provider's answer, encode as the client accepts, send."""
    started = time.perf_counter()
    body = _render(rt, ex, scanned, result)
    if body is None:
        if ex.record.outcome not in ("fail_open", "fallback"):
            ex.record.outcome = "unchanged"
        return await send.page(ex.request, ex.record, up, headers, scanned.raw)
    out_coding = codec.choose(ex.request.headers.get("Accept-Encoding", ""), scanned.coding)
    out = codec.encode(body, out_coding)
    rewrite.rewritten_headers(headers, out_coding)
    metrics.child(metrics.PAGES_REWRITTEN, scanned.rule.display).inc()
    metrics.NUMBERS_SWAPPED.inc(ex.record.phones_swapped)
    metrics.REWRITE_SECONDS.observe(scanned.spent + time.perf_counter() - started)
    ex.record.outcome = "rewritten"
    return await send.page(ex.request, ex.record, up, headers, out)


def _coding_or_none(headers: Mapping[str, str]) -> str | None:
    try:
        return codec.coding_of(headers.get("Content-Encoding", ""))
    except codec.CodecError:
        return None


async def _decode(
    rt: Runtime, ex: Exchange, raw: bytes, coding: str | None, hold: Hold
) -> bytes | None:
    """The page's bytes without their content coding; None (reason recorded) when that fails."""
    try:
        if coding is None:
            raise codec.CodecError("stacked content codings")
        html = codec.decode(raw, coding, rt.config.server.rewrite_max_bytes)
    except codec.CodecError as exc:
        _fail_open(ex.record, exc.reason)
        return None
    # A compressed page grows when decoded: its decoded and rewritten copies need room too.
    if html is not raw and not await hold.take(2 * len(html)):
        _fail_open(ex.record, "busy")
        return None
    return html


def _scan(rt: Runtime, ex: Exchange, rule: Rule, up: UpstreamResponse, html: bytes) -> Page | None:
    """The page's plan: where its phones are; None (reason recorded) if the scanner failed.

    A page sent again byte for byte reuses the plan kept for it (see `proxy.plans`).
    """
    charset = content_type_charset(up.headers)
    key = rt.plans.key(rule.name, charset, ex.request.path, html)
    page = rt.plans.get(key, html)
    if page is not None:
        return page
    try:
        page = scan(html, rule.matcher, charset=charset, include=rule.include, exclude=rule.exclude)
    except Exception:  # the scanner promises not to raise; a page must still be served
        _internal_error(ex.record, "scan")
        return None
    rt.plans.put(key, page)
    return page


async def _ask(ex: Exchange, provider: Provider, key: str, page: Page, rule: Rule) -> ViewResult:
    who = pageview.visitor(ex.request, ex.origin, key)
    view = pageview.page_view(
        ex.request,
        who,
        ex.origin,
        title=page.title,
        phones=page.phones,
        display=rule.display,
        rule_name=rule.name,
    )
    started = time.perf_counter()
    try:
        result = await provider.view(view)
    except Exception:  # providers answer trouble with a fallback; this is a bug in one
        _internal_error(ex.record, "provider")
        return ViewResult(fallback="internal")
    ex.record.provider_ms = round((time.perf_counter() - started) * 1000, 2)
    if result.fallback is not None:
        metrics.child(metrics.FALLBACKS, result.fallback).inc()
        ex.record.outcome, ex.record.reason = "fallback", f"provider_{result.fallback}"
    return result


def _render(rt: Runtime, ex: Exchange, scanned: Scanned, result: ViewResult) -> bytes | None:
    """The rewritten page, or None when the page must go out as the upstream sent it."""
    try:
        rendered = rewrite.render(rt, scanned.page, scanned.rule, result)
    except Exception:  # a renderer bug must not cost the visitor the page
        _internal_error(ex.record, "render")
        return None
    if rendered is None:
        return None
    ex.record.phones_swapped = rendered.swapped
    return rendered.body


def _visitor_cookie(ex: Exchange, headers: CIMultiDict[str]) -> str:
    """Set (or refresh) the visitor id cookie; returns the visitor key."""
    key, _ = cookies.visitor_key(ex.request.cookies)
    _add_cookies(ex, headers, {cookies.VISITOR_COOKIE: key})
    return key


def _add_cookies(ex: Exchange, headers: CIMultiDict[str], pairs: Mapping[str, str]) -> None:
    cookies.add(headers, pairs, secure=ex.origin.scheme == "https")


def _record_later(
    rt: Runtime, ex: Exchange, provider: Provider, key: str, title: str, rule: Rule | None
) -> None:
    """Record a page view without phones off the critical path; the response does not wait."""
    who = pageview.visitor(ex.request, ex.origin, key)
    view = pageview.page_view(
        ex.request,
        who,
        ex.origin,
        title=title,
        phones=(),
        display=rule.display if rule else "direct",
        rule_name=rule.name if rule else None,
    )
    rt.background.spawn(provider.view(view), what="record_view")


def _internal_error(record: RequestRecord, where: str) -> None:
    """A bug met on a page: the page goes out unchanged, the traceback goes to the log."""
    _fail_open(record, where)
    EVENTS.error("internal_error", exc_info=True, extra={"fields": {"where": where}})


def _fail_open(record: RequestRecord, reason: str) -> None:
    record.outcome, record.reason = "fail_open", reason
    metrics.child(metrics.FALLBACKS, reason).inc()
