"""The provider seam: what the response pipeline asks of any call-tracking provider.

The pipeline builds a `PageView` or `ClickRequest`, awaits the provider, and
gets back data: tracking numbers keyed by the original phone's E.164, cookies to
set, and a fallback reason when the visitor must see original numbers. Nothing
in the pipeline branches on which provider answered.

Providers never raise for provider trouble (timeouts, errors, garbage, an open
breaker): they answer with `fallback` set. They raise only for programming errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from rules import Phone, Tracking

Display = Literal["direct", "click"]


@dataclass(frozen=True)
class Visitor:
    """Who is asking, as the proxy sees them."""

    key: str
    """First-party visitor id from the proxy's own long-lived cookie (`dni_id`); the pipeline
    creates it when absent, so providers can keep continuity even for views they record
    off the critical path, and Freespee uses it as trackingId."""
    ip: str
    user_agent: str
    is_mobile: bool
    cookies: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers (case-insensitive in the proxy), for provider parameters read from a
    header (Freespee custom dimensions)."""


@dataclass(frozen=True)
class PageView:
    visitor: Visitor
    url: str
    """The public URL the visitor asked for."""
    title: str
    referer: str
    phones: tuple[Phone, ...]
    """Distinct configured phones found on the page, in document order (may be empty)."""
    display: Display
    rule_name: str | None
    """The rule that matched the path, or None for an HTML page no rule covers."""


@dataclass(frozen=True)
class ViewResult:
    numbers: Mapping[str, Tracking] = field(default_factory=dict)
    """Tracking numbers by original E.164 (direct display); phones missing keep their number."""
    view_id: str | None = None
    """Provider view reference a later click needs (click display)."""
    visit_id: str | None = None
    set_cookies: Mapping[str, str] = field(default_factory=dict)
    """Cookies to set on the response (name -> value); the pipeline adds the attributes."""
    fallback: str | None = None
    """Why the visitor sees (some) original numbers: timeout, error, breaker_open, warning..."""


@dataclass(frozen=True)
class ClickRequest:
    visitor: Visitor
    phone: Phone
    view_id: str | None
    visit_id: str | None
    rule_name: str | None
    url: str = ""


@dataclass(frozen=True)
class ClickResult:
    number: Tracking | None
    """None means: show the original number (see fallback)."""
    fallback: str | None = None


class Provider(Protocol):
    name: str

    async def view(self, view: PageView) -> ViewResult: ...

    async def click(self, click: ClickRequest) -> ClickResult: ...

    async def close(self) -> None: ...
