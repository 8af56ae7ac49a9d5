"""Click display: signed reveal tokens, `POST {prefix}/click` and `GET {prefix}/reveal.js`.

A reveal spends a paid provider call and a pool number, so the endpoint is guarded in
order, cheapest first, and each refusal costs no provider call:

    cross-site request                 403 {"error": "cross_site"}
    missing, forged, altered, expired  403 {"error": "invalid_token"}
    over the per-IP or per-visit rate  429 {"error": "rate_limited"} + Retry-After
    provider trouble                   200 with the original number, "fallback": true

A token is `base64url(payload) "." base64url(mac)`: the payload a JSON array
`[version, view id, visit id, e164, rule, sample, expiry]`, the mac HMAC-SHA256 over the
encoded payload, truncated to 128 bits. It is signed, not encrypted. A token that
revealed a number answers the same number again without a new provider call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import importlib.resources
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from cachetools import TTLCache

from proxy import visitors
from proxy.cookies import VISITOR_COOKIE, new_visitor_key
from proxy.forwarded import CLIENT_IP
from proxy.metrics import FALLBACKS
from proxy.providers.base import ClickRequest, ClickResult, Provider, ViewResult, Visitor
from rules import Phone, Tracking, parse_phone, write_like
from rules.config import Config

TOKEN_VERSION = 1
MAC_BYTES = 16
MAX_TOKEN = 2048
MAX_BODY = 4096
RATE_WINDOW = 60.0
"""The configured click rates are per minute."""
LIMITER_SIZE = 100_000
NO_STORE = {"Cache-Control": "no-store"}
IMMUTABLE = "public, max-age=31536000, immutable"
UNVERSIONED = "public, max-age=300"
"""A script fetched without the current version may be a stale page's: cache it briefly."""
_DIALABLE = re.compile(r"[0-9*#]{1,16}")

SCRIPT = (importlib.resources.files("proxy") / "static" / "reveal.js").read_bytes()
SCRIPT_VERSION = hashlib.sha256(SCRIPT).hexdigest()[:16]


@dataclass(frozen=True)
class Claims:
    view_id: str | None
    visit_id: str | None
    e164: str
    rule_name: str | None
    sample: str | None
    expires: int


class ClickTokens:
    def __init__(self, secret: bytes, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.ttl = ttl
        self._clock = clock

    def __repr__(self) -> str:
        return f"ClickTokens(ttl={self.ttl})"

    def sign(self, view: ViewResult, e164: str, rule_name: str | None, sample: str | None) -> str:
        expires = int(self._clock()) + self.ttl
        claims = [TOKEN_VERSION, view.view_id, view.visit_id, e164, rule_name, sample, expires]
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{_b64(self._mac(payload))}"

    def verify(self, token: str) -> Claims | None:
        """The token's claims if this secret signed it and it has not expired, else None."""
        payload, _, mac = token.partition(".")
        if len(token) > MAX_TOKEN or not payload or not mac:
            return None
        try:
            if not hmac.compare_digest(mac, _b64(self._mac(payload))):
                return None
            claims = _claims(json.loads(_unb64(payload)))
        except (binascii.Error, ValueError, TypeError):  # TypeError: a non-ASCII mac
            return None
        return claims if claims is not None and claims.expires > self._clock() else None

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]


def reveal_script_src(prefix: str) -> str:
    """The script's URL, versioned by its content so it can be cached for a year."""
    return f"{prefix.rstrip('/')}/reveal.js?v={SCRIPT_VERSION}"


def click_routes(
    config: Config, providers: Mapping[str, Provider], tokens: ClickTokens
) -> list[web.RouteDef]:
    prefix = config.server.prefix.rstrip("/")
    endpoint = _ClickEndpoint(config, providers, tokens)
    return [web.post(f"{prefix}/click", endpoint.handle), web.get(f"{prefix}/reveal.js", _script)]


class RateLimit:
    """Fixed one-minute windows of hits per key, in a bounded TTL cache."""

    def __init__(self, per_window: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_window
        self._clock = clock
        self._hits: TTLCache[tuple[str, int], int] = TTLCache(
            LIMITER_SIZE, 2 * RATE_WINDOW, timer=clock
        )

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds until the window ends."""
        now = self._clock()
        window = int(now // RATE_WINDOW)
        count = self._hits.get((key, window), 0) + 1
        self._hits[(key, window)] = count
        return None if count <= self._limit else (window + 1) * RATE_WINDOW - now


class _ClickEndpoint:
    def __init__(
        self, config: Config, providers: Mapping[str, Provider], tokens: ClickTokens
    ) -> None:
        self._rules = {rule.name: rule for rule in config.rules}
        self._providers = providers
        self._tokens = tokens
        self._code_template = config.rewrite.code_template
        self._per_ip = RateLimit(config.server.click_rate_per_ip)
        self._per_visit = RateLimit(config.server.click_rate_per_visit)
        self._revealed: TTLCache[str, Tracking] = TTLCache(LIMITER_SIZE, tokens.ttl)

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
            return _error(403, "cross_site")
        token = await _token(request)
        claims = self._tokens.verify(token) if token else None
        if token is None or claims is None:
            return _error(403, "invalid_token")
        visitor = _visitor(request)
        wait = self._per_ip.hit(visitor.ip)
        if wait is None:
            wait = self._per_visit.hit(_visit_key(claims, visitor))
        if wait is not None:
            return _error(429, "rate_limited", {"Retry-After": str(math.ceil(wait))})
        return await self._reveal(token, claims, visitor, request)

    async def _reveal(
        self, token: str, claims: Claims, visitor: Visitor, request: web.Request
    ) -> web.Response:
        phone = self._phone(claims)
        sample = claims.sample or phone.format("national")
        tracking = self._revealed.get(token)
        if tracking is None:
            result = await self._click(claims, phone, visitor, request)
            if result.number is None:
                FALLBACKS.labels(result.fallback or "error").inc()
                return _answer(sample, phone.e164, None, fallback=True)
            tracking = self._revealed[token] = result.number
        written = write_like(sample, phone, tracking, code_template=self._code_template)
        return _answer(written, tracking.e164, tracking.code, fallback=False)

    async def _click(
        self, claims: Claims, phone: Phone, visitor: Visitor, request: web.Request
    ) -> ClickResult:
        rule = self._rules.get(claims.rule_name or "")
        provider = self._providers.get(rule.provider) if rule else None
        if provider is None:  # the rule left the config since the page was served
            return ClickResult(None, fallback="unknown_rule")
        click = ClickRequest(
            visitor=visitor,
            phone=phone,
            view_id=claims.view_id,
            visit_id=claims.visit_id,
            rule_name=claims.rule_name,
            url=_page_url(request),
        )
        return await provider.click(click)

    def _phone(self, claims: Claims) -> Phone:
        rule = self._rules.get(claims.rule_name or "")
        phone_rule = rule.phone_rule(claims.e164) if rule else None
        return phone_rule.phone if phone_rule else parse_phone(claims.e164)


async def _token(request: web.Request) -> str | None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    try:
        if request.content_type == "application/json":
            document = await request.json()
            token = document.get("token") if isinstance(document, dict) else None
        else:
            token = (await request.post()).get("token")
    except (ValueError, UnicodeDecodeError):
        return None
    return token if isinstance(token, str) else None


def _visitor(request: web.Request) -> Visitor:
    user_agent = request.headers.get("User-Agent", "")
    return Visitor(
        # A visitor without the proxy's cookie still needs an id (Freespee's trackingId).
        key=request.cookies.get(VISITOR_COOKIE) or new_visitor_key(),
        ip=request.get(CLIENT_IP) or request.remote or "",
        user_agent=user_agent,
        is_mobile=visitors.is_mobile(user_agent),
        cookies=dict(request.cookies),
        query=dict(request.query),
        headers=request.headers,
    )


def _page_url(request: web.Request) -> str:
    """The page the reveal happened on: its Referer, else at least the site's origin
    (Freespee requires a URL; a site may send no referrer at all)."""
    referer = request.headers.get("Referer")
    if referer:
        return referer
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin + "/"
    return f"{request.scheme}://{request.host}/"


def _visit_key(claims: Claims, visitor: Visitor) -> str:
    """What "one visit" is for the rate limit: the provider's visit, else the proxy's visitor
    cookie, else the page view from this address (a random key would evade the limit)."""
    if claims.visit_id:
        return f"visit:{claims.visit_id}"
    if visitor.cookies.get(VISITOR_COOKIE):
        return f"visitor:{visitor.key}"
    return f"view:{claims.view_id}:{visitor.ip}"


def _answer(number: str, e164: str, code: str | None, *, fallback: bool) -> web.Response:
    tel = f"tel:{e164}" + (f",{code}" if code and _DIALABLE.fullmatch(code) else "")
    document = {"number": number, "tel": tel, "code": code, "fallback": fallback}
    return web.json_response(document, headers=NO_STORE)


def _error(status: int, error: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": error}, status=status, headers={**NO_STORE, **(headers or {})}
    )


async def _script(request: web.Request) -> web.Response:
    current = request.query.get("v") == SCRIPT_VERSION
    etag = f'"{SCRIPT_VERSION}"'
    headers = {
        "Cache-Control": IMMUTABLE if current else UNVERSIONED,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=SCRIPT, content_type="text/javascript", charset="utf-8", headers=headers
    )


def _claims(value: Any) -> Claims | None:
    if not isinstance(value, list) or len(value) != 7 or value[0] != TOKEN_VERSION:
        return None
    _, view_id, visit_id, e164, rule_name, sample, expires = value
    optional = (view_id, visit_id, rule_name, sample)
    if not isinstance(e164, str) or not isinstance(expires, int):
        return None
    if not all(item is None or isinstance(item, str) for item in optional):
        return None
    return Claims(view_id, visit_id, e164, rule_name, sample, expires)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


__all__ = ["Claims", "ClickTokens", "RateLimit", "click_routes", "reveal_script_src"]
