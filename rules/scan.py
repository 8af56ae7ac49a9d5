"""The span scanner: where a page writes its configured phones, as byte spans.

Theory of operation. A page is never parsed into a tree and re-serialised:
that would change bytes nobody asked to change (attribute quoting, entities,
invalid sequences, whitespace). Instead:

1. The page's encoding is decided (`charset.detect`). In every ASCII-compatible
   encoding a digit, `<`, `&` and `"` are the same single bytes, so the page is
   scanned as bytes and never decoded. A UTF-16 or UTF-32 page is scanned through
   a lossless UTF-8 view and rendered back; pages in the few other encodings
   where a digit byte may be part of another character (GB18030, ISO-2022) pass
   through untouched.
2. The configured phones, compiled once (`numbers.Matcher`), are found in one
   pass over the page (a C automaton where built, literal-prefixed regexes
   otherwise) wherever the page writes them, in any national or international
   form, with any separators and inline tags between the digits. The same pass
   says whether the page mentions `data-dni-skip` at all.
3. Each match is placed by the HTML5 tokenizer (`html.place`, one C call where
   built), asked only about the match's own offsets: inside a comment, an end
   tag or a raw-text element it is dropped; inside a start tag it is kept only
   when it lies in the value of the tag's `tel:`/`callto:` href; in text it is
   kept when every tag it spans is an inline element. A plain match (digits and
   separators only, the usual number) comes back with its digits read. Include
   and exclude CSS selectors and `data-dni-skip` are then applied with
   selectolax (`selectors`).
4. The result is a `Page`: the occurrences and the title, a plan. Rendering it
   with tracking numbers (`render`) splices new bytes into the original only at
   the occurrences; every other byte is the input's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from urllib.parse import unquote

from rules import charset as charsets
from rules import html, render
from rules.html import Tag
from rules.numbers import Form, Matcher
from rules.phones import Phone
from rules.render import Tracking, Where
from rules.selectors import SKIP_ATTRIBUTE, filter_by_selectors
from rules.tokenizer import TEXT, Placed

__all__ = ["Matcher", "Occurrence", "Page", "Tracking", "page_title", "scan"]

_Spelled = tuple[Phone, Form, str, tuple[int, ...], int]
"""What a match spells: phone, form, digits, the offset of each, prefix digits."""


@dataclass(frozen=True, init=False)
class Occurrence:
    """One place a configured phone is written: its byte span and where it stands."""

    phone: Phone
    where: Where
    start: int
    end: int
    """For text, from the first character of the written number (`+`, `(`, a digit
    or an entity) to its last digit; for tel, the same inside the href value."""
    text: str
    """The written number, decoded: tags dropped, entities resolved."""
    form: Form
    digits: str
    positions: tuple[int, ...] = field(repr=False)
    prefix_digits: int = field(default=0, repr=False)
    tag: Tag | None = field(default=None, repr=False)
    """For tel: the start tag whose href holds the number."""
    value: tuple[int, int] | None = field(default=None, repr=False)
    """For tel: the href value's span."""

    def __init__(
        self,
        phone: Phone,
        where: Where,
        start: int,
        end: int,
        text: str,
        form: Form,
        digits: str,
        positions: tuple[int, ...],
        prefix_digits: int = 0,
        tag: Tag | None = None,
        value: tuple[int, int] | None = None,
    ) -> None:
        # Built once per match on every page: one dict set at once, where the frozen
        # dataclass's own __init__ would call object.__setattr__ once per field.
        fields = {
            "phone": phone,
            "where": where,
            "start": start,
            "end": end,
            "text": text,
            "form": form,
            "digits": digits,
            "positions": positions,
            "prefix_digits": prefix_digits,
            "tag": tag,
            "value": value,
        }
        object.__setattr__(self, "__dict__", fields)


@dataclass(frozen=True, init=False)
class Page:
    """What scanning found in one page; render it to write tracking numbers in."""

    body: bytes
    charset: str
    title: str
    occurrences: tuple[Occurrence, ...]
    wide: charsets.Wide | None = field(default=None, repr=False)
    """For a UTF-16/32 page: the UTF-8 bytes scanned (occurrence offsets refer to them)."""

    def __init__(
        self,
        body: bytes,
        charset: str,
        title: str,
        occurrences: tuple[Occurrence, ...],
        wide: charsets.Wide | None = None,
    ) -> None:
        # One per page: set at once, as Occurrence does.
        fields = {
            "body": body,
            "charset": charset,
            "title": title,
            "occurrences": occurrences,
            "wide": wide,
        }
        object.__setattr__(self, "__dict__", fields)

    @property
    def source(self) -> bytes:
        """The bytes occurrence offsets refer to: the page, or its UTF-8 view."""
        return self.wide.utf8 if self.wide is not None else self.body

    @property
    def source_charset(self) -> str:
        return "utf-8" if self.wide is not None else self.charset

    def restore(self, source: bytes) -> bytes:
        """Rendered source bytes back in the page's own encoding."""
        return self.wide.back(source) if self.wide is not None else source

    @cached_property
    def phones(self) -> tuple[Phone, ...]:
        """Distinct phones found, in document order (asked for more than once per page)."""
        return tuple(dict.fromkeys(map(attrgetter("phone"), self.occurrences)))

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for occurrence in self.occurrences:
            entry = counts.setdefault(occurrence.phone.e164, {"text": 0, "tel": 0})
            entry[occurrence.where] += 1
        return counts

    def sample(self, e164: str) -> str | None:
        """How the page writes a phone: the first text occurrence, decoded."""
        return next(
            (o.text for o in self.occurrences if o.phone.e164 == e164 and o.where == "text"),
            None,
        )

    def render(
        self, assignments: Mapping[str, Tracking], *, code_template: str = " (code {code})"
    ) -> bytes:
        """The page with each assigned phone replaced by its tracking number."""
        return render.direct(self, assignments, code_template)

    def render_click(
        self, tokens: Mapping[str, str], *, script_src: str, label: str = "Afficher le numéro"
    ) -> bytes:
        """The page with each phone that has a token replaced by a reveal element."""
        return render.click(self, tokens, script_src, label)


def scan(
    body: bytes,
    matcher: Matcher,
    *,
    charset: str | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> Page:
    """Find the configured phones a page writes where visitors see or dial them."""
    encoding = charsets.detect(body, charset)
    wide = charsets.widen(body, encoding)
    if wide is None and not charsets.scannable(encoding):
        return Page(body, encoding, "", ())
    source, source_charset = (wide.utf8, "utf-8") if wide else (body, encoding)
    spans, skip_attribute = matcher.scan(source, SKIP_ATTRIBUTE)
    placed, title_span = html.place(source, spans, want_title=True)
    found = [
        occurrence
        for row in placed
        if (occurrence := _occurrence(source, matcher, row, source_charset)) is not None
    ]
    if found and (include or exclude or skip_attribute):
        found = filter_by_selectors(source, found, include, exclude)
    title = html.title_text(source, title_span, source_charset)
    return Page(body, encoding, title, tuple(found), wide)


_NO_PHONES = Matcher(())


def page_title(body: bytes, *, charset: str | None = None) -> str:
    """The title of a page (or of its first bytes) not otherwise scanned, as `Page.title`."""
    return scan(body, _NO_PHONES, charset=charset).title


def _occurrence(body: bytes, matcher: Matcher, row: Placed, encoding: str) -> Occurrence | None:
    """The occurrence a kept match is, when it spells a phone (and a link dials it)."""
    start, end, kind = row[:3]
    digits, positions = row[8:]
    written = body[start:end]
    plain = digits is not None and positions is not None
    if digits is not None and positions is not None:  # plain: its digits came with it
        found = matcher.phone_of(written, digits)
        if found is None:
            return None
        phone, form, prefix_digits = found
    else:  # tags or entities to read through
        reading = matcher.read(body, start, end)
        if reading is None:
            return None
        phone, form, digits, positions, prefix_digits = reading
    if kind != TEXT:
        return _in_link(body, row, (phone, form, digits, positions, prefix_digits), encoding)
    text = (html.decode_plain if plain else html.decode_text)(written, encoding)
    return Occurrence(phone, "text", start, end, text, form, digits, positions, prefix_digits)


def _in_link(body: bytes, row: Placed, spelled: _Spelled, encoding: str) -> Occurrence | None:
    start, end, _kind, tag_start, tag_end, name_start, value_start, value_end = row[:8]
    tag = Tag(tag_start, tag_end, html.tag_name(body, tag_start))
    if not _phone_link(body, tag, name_start, value_start, value_end):
        return None
    phone, form, digits, positions, prefix_digits = spelled
    text = unquote(html.unescape_bytes(body[start:end], encoding), errors="replace")
    value = (value_start, value_end)
    return Occurrence(
        phone, "tel", start, end, text, form, digits, positions, prefix_digits, tag, value
    )


def _phone_link(body: bytes, tag: Tag, name_start: int, value_start: int, value_end: int) -> bool:
    """Whether the href value a match stands in is the tag's phone link.

    Of duplicate attributes HTML5 keeps the first: only when the tag writes `href`
    before this one (rare) are its attributes read.
    """
    if html.PHONE_ATTRIBUTE in body[tag.start : name_start].lower():
        link = html.phone_link_value(body, tag)
        return link is not None and (link.start, link.end) == (value_start, value_end)
    return html.is_phone_link(body, value_start, value_end)
