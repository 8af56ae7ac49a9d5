"""The Freespee Dynamic Numbers client: one signed JSON POST per page view or reveal click.

The body is serialised once and signed with HMAC-SHA1 over those exact bytes (shared
secret; `X-SIGN` header or `sign` query parameter), and sent with `X-HTTP-STATUSES` so
errors come back as real status codes; Freespee's error text ("Invalid signature") goes
into the fallback's log line. The secret itself never leaves the process.
Freespee records only views that ask for numbers, and has no click call of its own: a
reveal asks for that one number at click time. The session id Freespee returns is kept
in a cookie (and remembered per visitor for the answers no response carries back).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers
from cachetools import TTLCache
from yarl import URL

from proxy.providers.base import ClickRequest, ClickResult, PageView, ViewResult, Visitor
from proxy.providers.breaker import Breaker
from proxy.providers.errors import (
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    log_fallback,
    translated,
)
from proxy.providers.freespee_params import anonymize_ip, parameters
from proxy.providers.guard import CallGuard
from proxy.providers.http import Answer, ProviderHttp
from proxy.providers.wire import json_body, json_object
from rules import Phone, PhoneError, Tracking, parse_phone
from rules.config import ProviderConfig, Rule

SESSION_COOKIE = "freespee_session_id"
SESSION_TTL = 30 * 60
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_NOT_DIGITS = re.compile(r"[^0-9]")
_SESSION = re.compile(r"[A-Za-z0-9._~-]{1,128}")
"""What a session id may look like before it goes into a cookie."""
ERROR_BODY_MAX = 4096
"""An error envelope is one short message; a longer body is not read for it."""
ERROR_TEXT_MAX = 200


def sign(body: bytes, secret: str) -> str:
    """The hex HMAC-SHA1 of the exact body bytes, as Freespee checks it."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


class FreespeeProvider:
    def __init__(
        self,
        config: ProviderConfig,
        rules: Mapping[str, Rule],
        http: ProviderHttp,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = config.name
        self._url = config.url
        self._secret = config.api_key
        self._adv_id = config.adv_id or ""
        self._sign_in = config.sign_in
        self._anonymize = config.anonymize_ip
        self._timeout = config.timeout
        self._rules = rules
        self._http = http
        breaker = Breaker(config.breaker_failures, config.breaker_cooldown, clock)
        self._guard = CallGuard(config.name, breaker, config.max_concurrency)
        self._sessions: TTLCache[str, str] = TTLCache(100_000, SESSION_TTL, timer=clock)

    def __repr__(self) -> str:
        return f"FreespeeProvider(name={self.name!r}, url={self._url!r})"

    async def view(self, view: PageView) -> ViewResult:
        known = self._session_id(view.visitor)
        if view.display != "direct" or not view.phones:
            return ViewResult(visit_id=known or None)
        rule = self._rules.get(view.rule_name or "")
        body = self._body(view.visitor, rule, view.phones, url=view.url, referer=view.referer)
        try:
            payload = await self._post("view", body)
        except ProviderError as exc:
            log_fallback(self.name, "view", exc)
            return ViewResult(visit_id=known or None, fallback=exc.reason)
        numbers = _assigned(payload, view.phones)
        session = self._keep_session(view.visitor, payload) or known
        return ViewResult(
            numbers=numbers,
            visit_id=session or None,
            set_cookies={SESSION_COOKIE: session} if session else {},
            fallback="partial" if len(numbers) < len(view.phones) else None,
        )

    async def click(self, click: ClickRequest) -> ClickResult:
        rule = self._rules.get(click.rule_name or "")
        body = self._body(click.visitor, rule, (click.phone,), url=click.url, referer="")
        try:
            payload = await self._post("click", body)
        except ProviderError as exc:
            log_fallback(self.name, "click", exc)
            return ClickResult(None, fallback=exc.reason)
        self._keep_session(click.visitor, payload)
        tracking = _assigned(payload, (click.phone,)).get(click.phone.e164)
        return ClickResult(tracking, fallback=None if tracking else "partial")

    async def close(self) -> None:
        """Nothing to release: the HTTP client belongs to the proxy."""

    def _body(
        self,
        visitor: Visitor,
        rule: Rule | None,
        phones: tuple[Phone, ...],
        *,
        url: str,
        referer: str,
    ) -> bytes:
        document = {
            "advId": self._adv_id,
            "fullUrl": url,
            "trackingId": visitor.key,
            "numbers": ",".join(phone.e164 for phone in phones),
            "type": "web",
            "fullReferrer": referer,
            "parameters": parameters(rule.parameters if rule else (), visitor),
            "userAgent": visitor.user_agent,
            "requestIpAddress": anonymize_ip(visitor.ip) if self._anonymize else visitor.ip,
            "sessionId": self._session_id(visitor),
        }
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    async def _post(self, endpoint: str, body: bytes) -> dict[str, Any]:
        signature = sign(body, self._secret)
        headers = {"Content-Type": "application/json", "X-HTTP-STATUSES": "true"}
        url = self._url
        if self._sign_in == "query":
            url = str(URL(url).update_query(sign=signature))
        else:
            headers["X-SIGN"] = signature
        deadline = asyncio.get_running_loop().time() + self._timeout
        with self._guard.slot(endpoint), translated("freespee"):
            return await self._exchange(url, body, headers, deadline)

    async def _exchange(
        self, url: str, body: bytes, headers: dict[str, str], deadline: float
    ) -> dict[str, Any]:
        answer = await self._http.post(url, body, headers, deadline)
        if answer.status != 200:
            said = _said(_error_envelope(answer))
            if answer.status == 400:  # this request was wrong; the service is fine
                raise ProviderRejected(f"freespee: HTTP 400{said}")
            raise ProviderUnavailable(f"freespee: HTTP {answer.status}{said}")
        payload = json_object(json_body(answer), "freespee")
        if payload.get("success") is not True:
            raise ProviderUnavailable(f"freespee: success is not true{_said(payload)}")
        return payload

    def _session_id(self, visitor: Visitor) -> str:
        cookie = visitor.cookies.get(SESSION_COOKIE, "")
        if _SESSION.fullmatch(cookie):
            return cookie
        return self._sessions.get(visitor.key, "")

    def _keep_session(self, visitor: Visitor, payload: dict[str, Any]) -> str | None:
        session = payload.get("sessionId")
        if not isinstance(session, str) or not _SESSION.fullmatch(session):
            return None
        self._sessions[visitor.key] = session
        return session


def _error_envelope(answer: Answer) -> object:
    """The body of an error status, if it is JSON; whatever else it is says nothing more."""
    try:
        return json_body(answer, ERROR_BODY_MAX)
    except (ProviderError, ValueError):
        return None


def _said(envelope: object) -> str:
    """`: <Freespee's error text>`, so the log says why (a wrong secret, an unknown advId);
    only that documented field, bounded, never the body."""
    error = envelope.get("error") if isinstance(envelope, dict) else None
    if not isinstance(error, str) or not error.strip():
        return ""
    return f": {' '.join(error.split())[:ERROR_TEXT_MAX]}"


def _assigned(payload: dict[str, Any], phones: tuple[Phone, ...]) -> dict[str, Tracking]:
    """Answers matched back to the phones asked for, by E.164 (any writing of it)."""
    entries = payload.get("numbers")
    numbers: dict[str, Tracking] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        phone = _phone_on_page(entry.get("number_on_page"), phones)
        tracking = _replacement(entry.get("replace_with"), phone) if phone else None
        if phone is not None and tracking is not None:
            numbers[phone.e164] = tracking
    return numbers


def _phone_on_page(text: object, phones: tuple[Phone, ...]) -> Phone | None:
    if not isinstance(text, str):
        return None
    digits = _NOT_DIGITS.sub("", text)
    for phone in phones:
        intl = phone.international_digits
        if digits in (intl, "00" + intl) or digits in phone.national_digits:
            return phone
    return None


def _replacement(replace_with: object, original: Phone) -> Tracking | None:
    if not isinstance(replace_with, dict):
        return None
    e164 = replace_with.get("e164")
    if isinstance(e164, str) and _E164.fullmatch(e164):
        return Tracking(e164)
    local = replace_with.get("local")
    region = phonenumbers.region_code_for_country_code(original.country_code)
    if not isinstance(local, str):
        return None
    try:
        return Tracking(parse_phone(local, region).e164)
    except PhoneError:
        return None
