"""The Freespee Dynamic Numbers endpoint: signed JSON in, numbers for a session out.

Checks, in order, each failing with the document's envelope
`{"success": false, "error": ...}`: the body is a JSON object (400), `advId` is
there (400) and known (403), the HMAC-SHA1 signature of the exact body bytes,
from `X-SIGN` or `?sign=`, matches the advertiser's secret (403), the other
mandatory parameters are there and valid (400). Answers are 200 unless the
request carries `X-HTTP-STATUSES`, as the document says.

A session holds one number per number on the page for `session_ttl` seconds
after its last request; sending its `sessionId` back gets the same numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from sandbox.allocator import Allocator
from sandbox.clock import Clock
from sandbox.numbers import Permutation
from sandbox.settings import AdvertiserSettings, SandboxSettings
from sandbox.store import Store

# The document gives no path ("POST http://url/api"); this is the sandbox's.
FREESPEE_PATH = "/freespee/dynamic-numbers"
SIGN_HEADER = "X-SIGN"
SIGN_QUERY = "sign"
STATUSES_HEADER = "X-HTTP-STATUSES"

MSG_INVALID_JSON = "Invalid JSON body"
MSG_MISSING = "Missing parameter: {name}"
MSG_INVALID = "Invalid parameter: {name}"
MSG_TOO_LONG = "Invalid parameter: {name} (max {limit} characters)"
MSG_UNKNOWN_ADVERTISER = "Unknown advertiser: {adv_id}"
MSG_MISSING_SIGNATURE = "Missing signature"
MSG_BAD_SIGNATURE = "Invalid signature"
MSG_NO_NUMBER = "No tracking number available"
MSG_SYSTEM = "Internal server error"

MANDATORY = ("advId", "fullUrl", "trackingId", "numbers", "type")
MANDATORY_WEB = ("userAgent", "requestIpAddress")
OPTIONAL_STRINGS = ("fullReferrer", "sessionId", "userAgent", "requestIpAddress")
TYPES = ("web", "app")
# Validation rules of the document's custom dimensions.
PARAMETER_LIMITS = {"custnr": 45, "custname": 60, "custemail": 150}


class FreespeeError(Exception):
    def __init__(self, http_status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message


def error_body(message: str) -> dict[str, Any]:
    """The document's error envelope; every Freespee error goes through here."""
    return {"success": False, "error": message}


def sign(secret: str | bytes, body: bytes) -> str:
    """HMAC-SHA1 of the exact body bytes, hex, as Freespee computes it."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha1).hexdigest()


def local_format(e164: str) -> str:
    """phonenumbers' national form, the subscriber digits in pairs: `030 15 98 11 58`."""
    national = phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    head, _, rest = national.partition(" ")
    digits = "".join(ch for ch in rest if ch.isdigit())
    if not digits:
        return national
    # An odd count starts with a group of three: 123 45 67.
    start = 3 if len(digits) % 2 and len(digits) > 1 else len(digits) % 2
    groups = [digits[:start]] if start else []
    groups += [digits[i : i + 2] for i in range(start, len(digits), 2)]
    return " ".join([head, *groups])


@dataclass(frozen=True)
class FreespeeRequest:
    advertiser: AdvertiserSettings
    body: Mapping[str, Any]
    numbers: tuple[str, ...]
    """The numbers on the page, in E.164."""


def parse_request(raw: bytes, signature: str | None, settings: SandboxSettings) -> FreespeeRequest:
    """The checks of the module docstring, in order; FreespeeError on the first failure."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FreespeeError(400, MSG_INVALID_JSON) from None
    if not isinstance(body, dict):
        raise FreespeeError(400, MSG_INVALID_JSON)
    advertiser = _advertiser(body, settings)
    _check_signature(advertiser, raw, signature)
    _check_mandatory(body)
    return FreespeeRequest(advertiser, body, _numbers(body["numbers"], advertiser.region))


def _advertiser(body: Mapping[str, Any], settings: SandboxSettings) -> AdvertiserSettings:
    adv_id = body.get("advId")
    if not isinstance(adv_id, str) or not adv_id:
        raise FreespeeError(400, MSG_MISSING.format(name="advId"))
    advertiser = settings.advertiser(adv_id)
    if advertiser is None:
        raise FreespeeError(403, MSG_UNKNOWN_ADVERTISER.format(adv_id=adv_id))
    return advertiser


def _check_signature(advertiser: AdvertiserSettings, raw: bytes, signature: str | None) -> None:
    if not signature:
        raise FreespeeError(403, MSG_MISSING_SIGNATURE)
    if not hmac.compare_digest(sign(advertiser.secret, raw), signature.strip().lower()):
        raise FreespeeError(403, MSG_BAD_SIGNATURE)


def _check_mandatory(body: Mapping[str, Any]) -> None:
    mandatory = MANDATORY + (MANDATORY_WEB if body.get("type") == "web" else ())
    for name in mandatory:
        if body.get(name) in (None, ""):
            raise FreespeeError(400, MSG_MISSING.format(name=name))
    for name in (*MANDATORY, *OPTIONAL_STRINGS):
        if name in body and not isinstance(body[name], str):
            raise FreespeeError(400, MSG_INVALID.format(name=name))
    if body["type"] not in TYPES:
        raise FreespeeError(400, MSG_INVALID.format(name="type"))
    _check_parameters(body.get("parameters", {}))


def _check_parameters(parameters: object) -> None:
    if not isinstance(parameters, dict):
        raise FreespeeError(400, MSG_INVALID.format(name="parameters"))
    for name, value in parameters.items():
        if not isinstance(value, str):
            raise FreespeeError(400, MSG_INVALID.format(name=name))
        limit = PARAMETER_LIMITS.get(name)
        if limit is not None and len(value) > limit:
            raise FreespeeError(400, MSG_TOO_LONG.format(name=name, limit=limit))


def _numbers(text: str, region: str) -> tuple[str, ...]:
    numbers = []
    for item in text.split(","):
        try:
            number = phonenumbers.parse(item.strip(), region.upper())
        except phonenumbers.NumberParseException:
            raise FreespeeError(400, MSG_INVALID.format(name="numbers")) from None
        numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return tuple(dict.fromkeys(numbers))


class FreespeePlatform:
    """Sessions and the per-advertiser pools behind the endpoint."""

    def __init__(self, settings: SandboxSettings, store: Store, clock: Clock) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._pools = {
            a.adv_id: Permutation.seeded(10**a.digits, f"{settings.seed}:freespee:{a.adv_id}")
            for a in settings.advertisers
        }
        self._allocators = {a.adv_id: Allocator(a.size) for a in settings.advertisers}
        self.restore()

    def restore(self) -> None:
        now = self._clock()
        for adv_id, allocator in self._allocators.items():
            allocator.restore(*self._store.pool_state("fs_assignments", {"adv_id": adv_id}, now))

    def answer(self, request: FreespeeRequest, *, exhausted: bool) -> dict[str, Any]:
        """Numbers for the request's session (a new session when its own is unknown or over)."""
        advertiser, now = request.advertiser, self._clock()
        session_id = self._session(advertiser, request.body, now)
        until = now + advertiser.session_ttl
        self._store.touch_fs_session(session_id, now, until)
        rows = self._store.fs_numbers(session_id, now)
        for row in rows:
            self._allocators[advertiser.adv_id].hold(row["slot"], until)
        held = {row["number_on_page"]: row["e164"] for row in rows}
        for number in request.numbers:
            if number not in held and not exhausted:
                self._assign(advertiser, session_id, number, held, now, until)
        self._record_view(advertiser, session_id, request.body, now)
        if not any(number in held for number in request.numbers):
            raise FreespeeError(500, MSG_NO_NUMBER)
        return {
            "success": True,
            "numbers": [_replacement(n, held[n]) for n in request.numbers if n in held],
            "sessionId": session_id,
        }

    def _session(self, advertiser: AdvertiserSettings, body: Mapping[str, Any], now: float) -> str:
        sent = body.get("sessionId") or ""
        since = now - advertiser.session_ttl
        if sent and self._store.fs_session(advertiser.adv_id, sent, since) is not None:
            return str(sent)
        serial = self._store.last_id("fs_sessions") + 1
        bits = random.Random(f"{self._settings.seed}:session:{serial}").getrandbits(128)
        session_id = str(uuid.UUID(int=bits, version=4))
        self._store.insert("fs_sessions", {
            "session_id": session_id, "adv_id": advertiser.adv_id,
            "tracking_id": body.get("trackingId"), "created_at": now, "last_seen_at": now,
        })  # fmt: skip
        return session_id

    def _assign(
        self,
        advertiser: AdvertiserSettings,
        session_id: str,
        number: str,
        held: dict[str, str],
        now: float,
        until: float,
    ) -> None:
        slot = self._allocators[advertiser.adv_id].take(now)
        if slot is None:
            return
        self._allocators[advertiser.adv_id].hold(slot, until)
        e164 = f"{advertiser.prefix}{self._pools[advertiser.adv_id](slot):0{advertiser.digits}d}"
        held[number] = e164
        self._store.insert("fs_assignments", {
            "adv_id": advertiser.adv_id, "session_id": session_id, "number_on_page": number,
            "slot": slot, "e164": e164, "assigned_at": now, "expires_at": until,
        })  # fmt: skip

    def _record_view(
        self, advertiser: AdvertiserSettings, session_id: str, body: Mapping[str, Any], now: float
    ) -> None:
        self._store.insert("fs_views", {
            "adv_id": advertiser.adv_id, "session_id": session_id, "at": now,
            "tracking_id": body.get("trackingId"), "type": body.get("type"),
            "full_url": body.get("fullUrl"), "full_referrer": body.get("fullReferrer"),
            "user_agent": body.get("userAgent"), "ip": body.get("requestIpAddress"),
            "parameters": json.dumps(body.get("parameters", {})), "numbers": body.get("numbers"),
        })  # fmt: skip


def _replacement(number_on_page: str, e164: str) -> dict[str, Any]:
    return {
        "number_on_page": number_on_page,
        "replace_with": {"e164": e164, "local": local_format(e164)},
    }
