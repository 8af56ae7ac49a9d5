"""Writing the provider's answer into a scanned page: tracking numbers, or reveal buttons.

Plain functions of values; the pipeline decides what a failure here means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from multidict import CIMultiDict

from proxy import codec
from proxy.headers import DROP_ON_REWRITE, add_vary, make_private
from proxy.providers.base import ViewResult
from proxy.runtime import Runtime
from rules import Page, Tracking
from rules.config import Rule


@dataclass(frozen=True)
class Rendered:
    body: bytes
    swapped: int
    """Occurrences written with a tracking number or a reveal button."""


def render(rt: Runtime, page: Page, rule: Rule, result: ViewResult) -> Rendered | None:
    """The rewritten page, or None when the page goes out as the upstream sent it."""
    if rule.display == "click":
        return _click(rt, page, rule, result)
    return _direct(rt, page, result.numbers)


def _direct(rt: Runtime, page: Page, numbers: Mapping[str, Tracking]) -> Rendered | None:
    if not numbers:
        return None
    body = page.render(numbers, code_template=rt.config.rewrite.code_template)
    return Rendered(body, _count(page, numbers))


def _click(rt: Runtime, page: Page, rule: Rule, result: ViewResult) -> Rendered | None:
    """Reveal buttons only for a recorded view: during an outage the numbers stay visible."""
    if result.fallback is not None or rt.tokens is None:
        return None
    tokens = {
        phone.e164: rt.tokens.sign(result, phone.e164, rule.name, page.sample(phone.e164))
        for phone in page.phones
    }
    label = rt.config.rewrite.click_label
    body = page.render_click(tokens, script_src=rt.reveal_src, label=label)
    return Rendered(body, _count(page, tokens))


def _count(page: Page, swapped: Mapping[str, object]) -> int:
    return sum(1 for occurrence in page.occurrences if occurrence.phone.e164 in swapped)


def rewritten_headers(headers: CIMultiDict[str], coding: str) -> None:
    """Validators and ranges describe the upstream's bytes; a personalised page is private."""
    for name in DROP_ON_REWRITE:
        headers.popall(name, None)
    if coding != codec.IDENTITY:
        headers["Content-Encoding"] = coding
        add_vary(headers, "Accept-Encoding")
    add_vary(headers, "Cookie")
    make_private(headers)
