"""From a request to what a provider is told about a page view: the visitor and the view."""

from __future__ import annotations

from aiohttp import web

from proxy import codec, visitors
from proxy.forwarded import Origin
from proxy.providers.base import Display, PageView, Visitor
from rules import Phone, page_title

# The head of a page that a title is looked for in, when the page itself is not scanned.
TITLE_PREFIX = 32 * 1024


def public_url(origin: Origin, request: web.BaseRequest) -> str:
    """The URL the visitor asked for, as they see it (public scheme and host)."""
    return f"{origin.scheme}://{origin.host}{request.rel_url.raw_path_qs}"


def is_robot(request: web.BaseRequest) -> str | None:
    """ "bot" or "prefetch" when no person sees this page view, else None."""
    if visitors.is_prefetch(request.headers):
        return "prefetch"
    if visitors.is_bot(request.headers.get("User-Agent", "")):
        return "bot"
    return None


def visitor(request: web.BaseRequest, origin: Origin, key: str) -> Visitor:
    user_agent = request.headers.get("User-Agent", "")
    return Visitor(
        key=key,
        ip=origin.client_ip,
        user_agent=user_agent,
        is_mobile=visitors.is_mobile(user_agent),
        cookies=dict(request.cookies),
        query=dict(request.query),
        headers=request.headers,
    )


def page_view(
    request: web.BaseRequest,
    who: Visitor,
    origin: Origin,
    *,
    title: str,
    phones: tuple[Phone, ...],
    display: Display,
    rule_name: str | None,
) -> PageView:
    return PageView(
        visitor=who,
        url=public_url(origin, request),
        title=title,
        referer=request.headers.get("Referer", ""),
        phones=phones,
        display=display,
        rule_name=rule_name,
    )


def title_of(head: bytes, coding: str, charset: str | None) -> str:
    """The <title> text from the first bytes of a page not otherwise scanned ("" if none)."""
    try:
        text = codec.decode_prefix(head, coding, TITLE_PREFIX * 4)
    except codec.CodecError:
        return ""
    return page_title(text, charset=charset)
