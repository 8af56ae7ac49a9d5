"""Header tables and the two header transforms of a forwarding proxy.

Towards the upstream: hop-by-hop headers and every header the client's
`Connection` names are dropped, then the proxy writes its own X-Forwarded-*
(so `Connection: X-Forwarded-For` can never remove them) and X-Request-Id.
Towards the client: hop-by-hop headers are dropped and everything else, every
`Set-Cookie` line included, passes as the upstream wrote it; the framing
(Content-Length or chunked) is redone by the server.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy

# RFC 9110 7.6.1 plus the usual extras (Caddy's `hopHeaders`, nginx's Expect).
HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

# Request headers the proxy writes itself; a client's copy is never believed
# as is (trusted peers' chains are read separately, then rewritten).
MANAGED_REQUEST: frozenset[str] = frozenset(
    {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded", "x-real-ip"}
)

# Dropped from requests: the server answers `Expect: 100-continue` itself.
REQUEST_ONLY_DROP: frozenset[str] = frozenset({"expect"})

# Dropped from responses: an origin advertising another protocol endpoint
# (HTTP/3 on another host) would let browsers go around the proxy.
RESPONSE_ONLY_DROP: frozenset[str] = frozenset({"alt-svc"})

# Validators and range support describe the upstream's bytes, not a rewritten page.
DROP_ON_REWRITE: tuple[str, ...] = (
    "Content-Length",
    "Content-Encoding",
    "ETag",
    "Last-Modified",
    "Content-MD5",
    "Accept-Ranges",
)


def connection_named(headers: Mapping[str, str]) -> frozenset[str]:
    """Lower-cased header names listed in every `Connection` header line."""
    if "Connection" not in headers:
        return frozenset()
    getall = getattr(headers, "getall", None)
    values = getall("Connection", []) if getall else [headers.get("Connection", "")]
    return frozenset(
        token.strip().lower() for value in values for token in value.split(",") if token.strip()
    )


def _dropped(name: str, extra: frozenset[str], named: frozenset[str]) -> bool:
    lower = name.lower()
    return lower in HOP_BY_HOP or lower in extra or lower in named


def _managed_alias(name: str) -> bool:
    """`X_Forwarded_For` reaches CGI/PHP/WSGI backends as X-Forwarded-For: never forward it."""
    lower = name.lower()
    return "_" in lower and lower.replace("_", "-") in MANAGED_REQUEST


def upstream_request_headers(
    incoming: CIMultiDictProxy[str],
    *,
    forwarded: Mapping[str, str],
    host: str | None,
) -> CIMultiDict[str]:
    """The headers to send upstream: end-to-end ones as received, then ours.

    `forwarded` holds the X-Forwarded-* values and X-Request-Id the proxy sets;
    `host` replaces the Host header (None: let the client library write the
    upstream's own host).
    """
    named = connection_named(incoming)
    ours = {name.lower() for name in forwarded} | MANAGED_REQUEST | {"host"}
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        if _dropped(name, REQUEST_ONLY_DROP, named) or name.lower() in ours:
            continue
        if _managed_alias(name):
            continue
        out.add(name, value)
    if host is not None:
        out["Host"] = host
    for name, value in forwarded.items():
        out[name] = value
    return out


def client_response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """The upstream's response headers minus hop-by-hop ones; Set-Cookie lines all kept."""
    named = connection_named(upstream)
    return CIMultiDict(
        (name, value)
        for name, value in upstream.items()
        if not _dropped(name, RESPONSE_ONLY_DROP, named)
    )


def websocket_request_headers(headers: CIMultiDict[str]) -> CIMultiDict[str]:
    """Headers for the upstream websocket handshake: each leg negotiates its own key/extensions."""
    for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Extensions", "Sec-WebSocket-Version"):
        headers.popall(name, None)
    headers.popall("Sec-WebSocket-Protocol", None)
    return headers


def media_type(headers: Mapping[str, str]) -> str:
    """`text/html` from `Text/HTML; charset=utf-8`."""
    return headers.get("Content-Type", "").partition(";")[0].strip().lower()


def content_type_charset(headers: Mapping[str, str]) -> str | None:
    """The `charset` parameter of Content-Type, unquoted, or None."""
    _, _, params = headers.get("Content-Type", "").partition(";")
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').strip("'") or None
    return None


def cache_directives(headers: Mapping[str, str]) -> frozenset[str]:
    """Lower-cased Cache-Control directive names, across every Cache-Control line."""
    getall = getattr(headers, "getall", None)
    values = getall("Cache-Control", []) if getall else [headers.get("Cache-Control", "")]
    return frozenset(
        part.split("=", 1)[0].strip().lower()
        for value in values
        for part in value.split(",")
        if part.strip()
    )


def make_private(headers: CIMultiDict[str]) -> None:
    """Keep a personalised response out of shared caches: `private`, no `public`/`s-maxage`."""
    kept = [
        part.strip()
        for value in headers.getall("Cache-Control", [])
        for part in value.split(",")
        if part.strip() and part.split("=", 1)[0].strip().lower() not in {"public", "s-maxage"}
    ]
    if not any(part.lower() in {"private", "no-store"} for part in kept):
        kept.insert(0, "private")
    headers["Cache-Control"] = ", ".join(kept)


def add_vary(headers: CIMultiDict[str], name: str) -> None:
    """Add `name` to Vary unless it (or `*`) is already there."""
    present = {
        token.strip().lower()
        for value in headers.getall("Vary", [])
        for token in value.split(",")
        if token.strip()
    }
    if name.lower() in present or "*" in present:
        return
    values = [v for v in headers.getall("Vary", []) if v.strip()]
    headers["Vary"] = ", ".join([*values, name])
