"""Why a provider call gave no (or not all) tracking numbers: a small error tree.

    ProviderError                 reason: the label the pipeline, logs and metrics see
    ├── ProviderTimeout           "timeout"       the deadline passed
    ├── ProviderUnavailable       "error"         transport failure, HTTP error, error status
    │   └── ProviderRejected      "rejected"      the provider refused this one request
    ├── BadResponse               "bad_response"  not the JSON the contract promises
    └── Refused                   raised before any byte is sent
        ├── BreakerOpen           "breaker_open"  the provider failed recently; cooling down
        └── Overloaded            "overloaded"    every call slot is busy

Every error but `ProviderRejected` (and the refusals) counts against the provider's
breaker: a request the provider found invalid (a missing or bad parameter, a view it no
longer knows) says nothing about its health.

Every client translates foreign exceptions (the HTTP client's, asyncio, json) into this tree in
one context manager, `translated`. Messages never carry request or response bodies (Freespee's
short, bounded `error` text excepted: it names why a call was refused): the API key
travels in the Optico body and must not reach a log line.
"""

from __future__ import annotations

from typing import ClassVar

from proxy.logs import log_event
from proxy.providers.http import AnswerTooLarge, HttpError


class ProviderError(Exception):
    reason: ClassVar[str] = "error"


class ProviderTimeout(ProviderError):
    reason = "timeout"


class ProviderUnavailable(ProviderError):
    reason = "error"


class ProviderRejected(ProviderUnavailable):
    reason = "rejected"


class BadResponse(ProviderError):
    reason = "bad_response"


class Refused(ProviderError):
    """Not attempted: the call would have hurt the provider or the page."""


class BreakerOpen(Refused):
    reason = "breaker_open"


class Overloaded(Refused):
    reason = "overloaded"


def translated(label: str) -> Translated:
    """The one place foreign exceptions become `ProviderError`s, for every client.

    `label` (an endpoint or the provider's name) starts each message.
    """
    return Translated(label)


class Translated:
    """`translated`'s context manager: a class, as it wraps every provider call."""

    __slots__ = ("_label",)

    def __init__(self, label: str) -> None:
        self._label = label

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, ProviderError):
            return
        label = self._label
        if isinstance(exc, TimeoutError):
            raise ProviderTimeout(f"{label}: deadline passed") from exc
        if isinstance(exc, AnswerTooLarge):
            raise BadResponse(f"{label}: {exc}") from exc
        if isinstance(exc, HttpError):
            raise ProviderUnavailable(f"{label}: {exc}") from exc
        if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):  # json, shapes
            raise BadResponse(f"{label}: {type(exc).__name__}") from exc


def log_fallback(provider: str, endpoint: str, exc: ProviderError) -> None:
    """One log line for a call that left (some) visitors with original numbers."""
    log_event(
        "provider_fallback",
        provider=provider,
        endpoint=endpoint,
        reason=exc.reason,
        detail=str(exc),
    )
