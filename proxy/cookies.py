"""The proxy's own cookies: the first-party visitor id and the provider's visit cookies.

`dni_id` is a random first-party id (`Visitor.key`), created on the first page
view and refreshed on every page view for 30 minutes: it lives exactly as long
as a provider visit, which is what it is for (a visit whose first page had no
phone keeps one visit id across its later pages), and it is no long-lived
tracking cookie. Every cookie the proxy sets is `Path=/; HttpOnly;
SameSite=Lax`, `Secure` when the public scheme is https, and is added beside
the upstream's own Set-Cookie lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from multidict import CIMultiDict

from proxy.headers import make_private

VISITOR_COOKIE = "dni_id"
VISIT_MAX_AGE = 1800

_VISITOR_KEY = re.compile(r"[0-9a-f]{32}")
# RFC 6265 cookie-name token and cookie-octets: nothing that could split a header.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")


def new_visitor_key() -> str:
    return os.urandom(16).hex()


def visitor_key(cookies: Mapping[str, str]) -> tuple[str, bool]:
    """The visitor's `dni_id`, or a new one; and whether it is new."""
    key = cookies.get(VISITOR_COOKIE, "")
    if _VISITOR_KEY.fullmatch(key):
        return key, False
    return new_visitor_key(), True


def set_cookie(name: str, value: str, *, secure: bool, max_age: int = VISIT_MAX_AGE) -> str:
    """One Set-Cookie header value with the proxy's attributes."""
    attributes = f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
    return attributes + "; Secure" if secure else attributes


def is_safe(name: str, value: str) -> bool:
    return bool(_NAME.fullmatch(name) and _VALUE.fullmatch(value))


def set_cookie_headers(cookies: Iterable[tuple[str, str]], *, secure: bool) -> list[str]:
    """Set-Cookie values for (name, value) pairs; a pair that could break the header is skipped."""
    return [
        set_cookie(name, value, secure=secure) for name, value in cookies if is_safe(name, value)
    ]


def add(headers: CIMultiDict[str], cookies: Mapping[str, str], *, secure: bool) -> None:
    """Our cookies beside the upstream's; a response carrying them is kept from shared caches."""
    if not cookies:
        return
    for value in set_cookie_headers(cookies.items(), secure=secure):
        headers.add("Set-Cookie", value)
    make_private(headers)
