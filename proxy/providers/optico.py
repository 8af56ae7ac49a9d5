"""The Optico Call Tracking (OSP) client: `ospView` on every page view, `ospClick` on reveal.

Form-encoded POSTs; the API key travels as a body field, never in a URL, and never in a
log line or exception (only reasons and status words are). Documented statuses come
back with HTTP 200 and `{"status": ..., "errorMessage": ...}`, SYSTEM_ERROR with 500;
WARNING means "valid, but no (or not every) number could be assigned" and is not a
provider failure. Visit continuity: the `optico_visit_id` cookie when the visitor has
one, else the visit remembered for the proxy's visitor id (see `visits.py`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from proxy.providers.base import ClickRequest, ClickResult, PageView, ViewResult
from proxy.providers.breaker import Breaker
from proxy.providers.errors import (
    BadResponse,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    log_fallback,
    translated,
)
from proxy.providers.guard import CallGuard, Outcome
from proxy.providers.http import ProviderHttp
from proxy.providers.visits import Visits
from proxy.providers.wire import json_body, json_object
from rules import Phone, PhoneError, Tracking, parse_phone
from rules.config import PhoneRule, ProviderConfig, Rule

VISIT_COOKIE = "optico_visit_id"
FAILURE_STATUSES = frozenset({"AUTHENTICATION_ERROR", "SYSTEM_ERROR"})
REJECTED_STATUSES = frozenset({"MISSING_PARAMETER", "INVALID_PARAMETER"})
_VISIT_ID = re.compile(r"[0-9]{1,18}")
_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class OpticoProvider:
    def __init__(
        self,
        config: ProviderConfig,
        rules: Mapping[str, Rule],
        http: ProviderHttp,
        *,
        region: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = config.name
        self._url = config.url.rstrip("/")
        self._api_key = config.api_key
        self._timeout = config.timeout
        self._rules = rules
        self._http = http
        self._region = region
        breaker = Breaker(config.breaker_failures, config.breaker_cooldown, clock)
        self._guard = CallGuard(config.name, breaker, config.max_concurrency)
        self._visits = Visits(clock=clock)

    def __repr__(self) -> str:
        return f"OpticoProvider(name={self.name!r}, url={self._url!r})"

    async def view(self, view: PageView) -> ViewResult:
        # One deadline for the whole view, waiting for a first view included.
        deadline = asyncio.get_running_loop().time() + self._timeout
        key = view.visitor.key
        visit = await self._known_visit(view)
        first = self._visits.begin_first(key) if visit is None else None
        result = ViewResult(fallback="error")
        try:
            result = await self._record_view(view, visit, deadline)
        finally:
            if first is not None:
                self._visits.end_first(key, first, result.visit_id)
        return result

    async def click(self, click: ClickRequest) -> ClickResult:
        rule = self._rules.get(click.rule_name or "")
        phone_rule = rule.phone_rule(click.phone.e164) if rule else None
        fields = [("api_key", self._api_key), ("phone", _digits(click.phone))]
        if click.view_id is not None:
            fields.append(("view_id", click.view_id))
        fields += _pool_fields(rule, phone_rule)
        fields += [("expiration", str(rule.expiration if rule else -1))]
        fields += [("user_agent", click.visitor.user_agent)]
        fields += _client_data(phone_rule)
        try:
            payload, outcome = await self._post("ospClick", fields)
            return self._click_result(payload, outcome)
        except ProviderError as exc:
            log_fallback(self.name, "ospClick", exc)
            return ClickResult(None, fallback=exc.reason)

    async def close(self) -> None:
        """Nothing to release: the HTTP client belongs to the proxy."""

    async def _known_visit(self, view: PageView) -> str | None:
        cookie = view.visitor.cookies.get(VISIT_COOKIE, "")
        if _VISIT_ID.fullmatch(cookie) and int(cookie) > 0:
            return str(int(cookie))
        key = view.visitor.key
        return self._visits.get(key) or await self._visits.wait_first(key, self._timeout)

    async def _record_view(self, view: PageView, visit: str | None, deadline: float) -> ViewResult:
        fields = self._view_fields(view, visit)
        try:
            payload, outcome = await self._post("ospView", fields, deadline)
        except ProviderError as exc:
            log_fallback(self.name, "ospView", exc)
            return ViewResult(visit_id=visit, fallback=exc.reason)
        visit_id = _id(payload.get("visitId")) or visit
        if visit_id is not None:
            self._visits.remember(view.visitor.key, visit_id)
        numbers = self._surtax_numbers(view, payload) if view.display == "direct" else {}
        return ViewResult(
            numbers=numbers,
            view_id=_id(payload.get("viewId")),
            visit_id=visit_id,
            set_cookies={VISIT_COOKIE: visit_id} if visit_id is not None else {},
            fallback=_view_fallback(view, numbers, outcome),
        )

    def _view_fields(self, view: PageView, visit: str | None) -> list[tuple[str, str]]:
        rule = self._rules.get(view.rule_name or "")
        visitor = view.visitor
        fields = [
            ("api_key", self._api_key),
            ("visit_id", visit or "0"),
            ("ip", visitor.ip),
            ("url", view.url),
            ("page_title", view.title),
            ("is_mobile", _bool(visitor.is_mobile)),
            ("referer_url", view.referer),
            ("nr_phones", str(len(view.phones))),
            # Optico requires `phones` with direct display: a page without any is recorded
            # as a plain (click display) view.
            ("direct_display", _bool(view.display == "direct" and bool(view.phones))),
            ("user_agent", visitor.user_agent),
            ("expiration", str(rule.expiration if rule else -1)),
            ("unique_visitor_id", visitor.key),
        ]
        if rule is not None and rule.type is not None:
            fields.append(("type", str(rule.type)))
        if view.display == "direct" and view.phones:
            fields += _phone_fields(view.phones, rule)
        return fields

    async def _post(
        self, endpoint: str, fields: list[tuple[str, str]], deadline: float | None = None
    ) -> tuple[dict[str, Any], Outcome]:
        body = "&".join(f"{name}={_quoted(value)}" for name, value in fields).encode("ascii")
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self._timeout
        with self._guard.slot(endpoint) as outcome, translated(endpoint):
            payload = await self._exchange(endpoint, body, deadline)
            outcome.status = _status(endpoint, payload)
        return payload, outcome

    async def _exchange(self, endpoint: str, body: bytes, deadline: float) -> dict[str, Any]:
        answer = await self._http.post(f"{self._url}/{endpoint}", body, _FORM, deadline)
        if answer.status != 200:
            raise ProviderUnavailable(f"{endpoint}: HTTP {answer.status}")
        return json_object(json_body(answer), endpoint)

    def _surtax_numbers(self, view: PageView, payload: dict[str, Any]) -> dict[str, Tracking]:
        assigned = payload.get("surtaxPhones") or {}
        if not isinstance(assigned, dict):  # PHP encodes an empty map as []
            return {}
        numbers: dict[str, Tracking] = {}
        for phone in view.phones:
            tracking = self._tracking(assigned.get(_digits(phone)))
            if tracking is not None:
                numbers[phone.e164] = tracking
        return numbers

    def _click_result(self, payload: dict[str, Any], outcome: Outcome) -> ClickResult:
        tracking = self._tracking(payload.get("surtaxPhone"))
        if tracking is None:
            return ClickResult(
                None, fallback=outcome.status if outcome.status != "ok" else "bad_response"
            )
        return ClickResult(tracking)

    def _tracking(self, entry: object) -> Tracking | None:
        if not isinstance(entry, dict) or not isinstance(entry.get("surtaxPhoneNumber"), str):
            return None
        try:
            phone = parse_phone(entry["surtaxPhoneNumber"], self._region)
        except PhoneError:
            return None
        code = entry.get("surtaxPhoneCode")
        return Tracking(phone.e164, str(code) if code not in (None, "") else None)


@lru_cache(maxsize=4096)
def _quoted(value: str) -> str:
    """Form-encoded value; cached, as the key, user agents and pages repeat from view to view."""
    return quote_plus(value)


def _status(endpoint: str, payload: dict[str, Any]) -> str:
    status = payload.get("status")
    if status == "OK":
        return "ok"
    if status == "WARNING":
        return "warning"
    if status in REJECTED_STATUSES:
        raise ProviderRejected(f"{endpoint}: {status}")
    if status in FAILURE_STATUSES:
        raise ProviderUnavailable(f"{endpoint}: {status}")
    raise BadResponse(f"{endpoint}: unexpected status")


def _view_fallback(view: PageView, numbers: Mapping[str, Tracking], outcome: Outcome) -> str | None:
    if outcome.status == "warning":
        return "warning"
    if view.display == "direct" and len(numbers) < len(view.phones):
        return "partial"
    return None


def _phone_fields(phones: tuple[Phone, ...], rule: Rule | None) -> list[tuple[str, str]]:
    listed: list[str] = []
    extra: list[tuple[str, str]] = []
    for phone in phones:
        phone_rule = rule.phone_rule(phone.e164) if rule else None
        kind = phone_rule.type if phone_rule else None
        listed.append(_digits(phone) + (f":{kind}" if kind is not None else ""))
        extra += _client_data(phone_rule)
    return [("phones", ",".join(listed)), *extra]


def _pool_fields(rule: Rule | None, phone_rule: PhoneRule | None) -> list[tuple[str, str]]:
    kind = phone_rule.type if phone_rule and phone_rule.type is not None else None
    if kind is None and rule is not None:
        kind = rule.type
    return [("type", str(kind))] if kind is not None else []


def _client_data(phone_rule: PhoneRule | None) -> list[tuple[str, str]]:
    if phone_rule is None or phone_rule.client_data is None:
        return []
    return [(f"client_data[{_digits(phone_rule.phone)}]", phone_rule.client_data)]


def _digits(phone: Phone) -> str:
    """The phone as Optico knows it: its usual national digits (`0490260716`)."""
    return phone.national_digits[0]


def _id(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    text = str(value)
    return text if _VISIT_ID.fullmatch(text) and int(text) > 0 else None


def _bool(value: bool) -> str:
    return "true" if value else "false"
