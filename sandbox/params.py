"""Form bodies of the Call Tracking endpoints, read into typed requests or an OspError.

Presence is checked first, in the document's order, then types and values; the
first fault found is the one reported. Booleans are `true`/`false` (and `1`/`0`),
integers decimal; `client_data` comes PHP-style, `client_data[0490260716]=...`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from sandbox import errors
from sandbox.errors import OspError
from sandbox.numbers import normalize
from sandbox.settings import DomainSettings

CLIENT_DATA_MAX = 500
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}

# (parameter, may be empty): what /ospView requires besides api_key, in the document's order.
VIEW_REQUIRED: tuple[tuple[str, bool], ...] = (
    ("visit_id", False),
    ("ip", False),
    ("url", False),
    ("page_title", True),
    ("is_mobile", False),
    ("referer_url", True),
    ("nr_phones", False),
    ("direct_display", False),
)

ClientData = dict[str, str] | str | None


@dataclass(frozen=True)
class Form:
    fields: Mapping[str, str]
    client_data: ClientData

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


@dataclass(frozen=True)
class PhoneRequest:
    phone: str
    """As sent, without any `:typeId` suffix: the key of surtaxPhones."""
    key: str
    """Digits, so two spellings of one phone are one phone."""
    type_id: int


@dataclass(frozen=True)
class ViewParams:
    visit_id: int
    ip: str
    url: str
    page_title: str
    is_mobile: bool
    referer_url: str
    nr_phones: int
    direct_display: bool
    phones: tuple[PhoneRequest, ...]
    expiration: int
    user_agent: str
    unique_visitor_id: str
    unique_view_id: str
    client_data: ClientData


@dataclass(frozen=True)
class ClickParams:
    phone: PhoneRequest
    view_id: int | None
    expiration: int
    user_agent: str
    client_data: ClientData


@dataclass(frozen=True)
class ExpirationParams:
    surtax_phone: str
    number: str
    expiration: int


def read_form(body: bytes) -> Form:
    fields: dict[str, str] = {}
    entries: dict[str, str] = {}
    plain: str | None = None
    for name, value in _pairs(body.decode("utf-8", "replace")):
        if name.startswith("client_data[") and name.endswith("]"):
            entries[name[12:-1]] = value
        elif name == "client_data":
            plain = value
        else:
            fields[name] = value
    return Form(fields, entries or plain)


def _pairs(text: str) -> Iterator[tuple[str, str]]:
    """`application/x-www-form-urlencoded` pairs; parse_qsl's work, at half its cost."""
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            yield _unquote(name), _unquote(value)


def _unquote(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def view_params(form: Form, domain: DomainSettings) -> ViewParams:
    for name, may_be_empty in VIEW_REQUIRED:
        _require(form, name, may_be_empty=may_be_empty)
    visit_id = _natural(form, "visit_id")
    ip = _ip(form, "ip")
    is_mobile = _boolean(form, "is_mobile")
    nr_phones = _natural(form, "nr_phones")
    direct = _boolean(form, "direct_display")
    if direct:
        _require(form, "phones")
    default_type = _type(form, "type", domain, domain.default_type)
    return ViewParams(
        visit_id=visit_id,
        ip=ip,
        url=form.get("url"),
        page_title=form.get("page_title"),
        is_mobile=is_mobile,
        referer_url=form.get("referer_url"),
        nr_phones=nr_phones,
        direct_display=direct,
        phones=_phones(form, domain, default_type) if direct else (),
        expiration=_expiration(form),
        user_agent=form.get("user_agent"),
        unique_visitor_id=form.get("unique_visitor_id"),
        unique_view_id=form.get("unique_view_id"),
        client_data=_client_data(form),
    )


def click_params(form: Form, domain: DomainSettings) -> ClickParams:
    phone = _require(form, "phone")
    view_id = _natural(form, "view_id") if form.get("view_id") else None
    type_id = _type(form, "type", domain, domain.default_type)
    return ClickParams(
        phone=_phone(phone, type_id, "phone"),
        view_id=view_id,
        expiration=_expiration(form),
        user_agent=form.get("user_agent"),
        client_data=_client_data(form),
    )


def expiration_params(form: Form) -> ExpirationParams:
    sent = _require(form, "surtax_phone")
    number = normalize(sent)
    if number is None:
        raise errors.invalid(errors.MSG_NOT_PHONE, name="surtax_phone", value=sent)
    return ExpirationParams(sent, number, _expiration(form))


def _require(form: Form, name: str, *, may_be_empty: bool = False) -> str:
    value = form.fields.get(name)
    if value is None or (not value.strip() and not may_be_empty):
        raise errors.missing(name)
    return value


def _natural(form: Form, name: str) -> int:
    value = _integer(form.get(name), name)
    if value < 0:
        raise errors.invalid(errors.MSG_NEGATIVE, name=name)
    return value


def _integer(text: str, name: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise errors.invalid(errors.MSG_NOT_INTEGER, name=name) from None


def _boolean(form: Form, name: str) -> bool:
    value = BOOLEANS.get(form.get(name).strip())
    if value is None:
        raise errors.invalid(errors.MSG_NOT_BOOLEAN, name=name)
    return value


def _ip(form: Form, name: str) -> str:
    text = form.get(name).strip()
    if not _is_ip(text):
        raise errors.invalid(errors.MSG_NOT_IP, name=name)
    return text


@lru_cache(maxsize=4096)
def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _expiration(form: Form) -> int:
    value = _integer(form.get("expiration", "-1"), "expiration")
    if value < -1:
        raise OspError(errors.INVALID_PARAMETER, errors.MSG_EXPIRATION)
    return value


def _type(form: Form, name: str, domain: DomainSettings, default: int) -> int:
    text = form.get(name)
    return _pool_type(text, name, domain) if text.strip() else default


def _pool_type(text: str, name: str, domain: DomainSettings) -> int:
    type_id = _integer(text, name)
    if domain.pool(type_id) is None:
        raise errors.invalid(errors.MSG_UNKNOWN_TYPE, name=name, type_id=type_id)
    return type_id


def _phones(form: Form, domain: DomainSettings, default_type: int) -> tuple[PhoneRequest, ...]:
    requests = []
    for item in form.get("phones").split(","):
        phone, _, suffix = item.strip().partition(":")
        type_id = _pool_type(suffix, "phones", domain) if suffix else default_type
        requests.append(_phone(phone, type_id, "phones"))
    return tuple(requests)


def _phone(phone: str, type_id: int, name: str) -> PhoneRequest:
    key = normalize(phone)
    if not key:
        raise errors.invalid(errors.MSG_NOT_PHONE, name=name, value=phone)
    return PhoneRequest(phone.strip(), key, type_id)


def _client_data(form: Form) -> ClientData:
    data = form.client_data
    values: Any = data.items() if isinstance(data, dict) else [("", data or "")]
    for key, value in values:
        if len(value) > CLIENT_DATA_MAX:
            raise errors.invalid(errors.MSG_CLIENT_DATA, key=key)
    return data
