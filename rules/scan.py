"""Interface of the span scanner (implementation in progress)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from rules.phones import Phone

Where = Literal["text", "tel"]


@dataclass(frozen=True)
class Tracking:
    """A tracking number to write in place of an original: E.164 plus an optional code."""

    e164: str
    code: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """One place a configured phone is written: its byte span and where it stands."""

    phone: Phone
    where: Where
    start: int
    end: int


class Matcher:
    """The configured phones compiled once into the patterns the scanner runs."""

    def __init__(self, phones: Iterable[Phone]) -> None:
        self.phones = tuple(phones)


@dataclass(frozen=True)
class Page:
    body: bytes
    charset: str
    title: str
    occurrences: tuple[Occurrence, ...]

    @property
    def phones(self) -> tuple[Phone, ...]:
        """Distinct phones found, in document order."""
        raise NotImplementedError

    def counts(self) -> dict[str, dict[str, int]]:
        raise NotImplementedError

    def render(
        self, assignments: Mapping[str, Tracking], *, code_template: str = " (code {code})"
    ) -> bytes:
        raise NotImplementedError

    def render_click(
        self, tokens: Mapping[str, str], *, script_src: str, label: str = "Afficher le numéro"
    ) -> bytes:
        raise NotImplementedError


def scan(
    body: bytes,
    matcher: Matcher,
    *,
    charset: str | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> Page:
    raise NotImplementedError
