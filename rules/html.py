"""The bits of HTML the scanner and renderer read around an occurrence.

Where an offset stands in the token stream (text, a start tag, hidden) is the
tokenizer's business (`rules.tokenizer`). This module decides from its answers
which matches stand where a number may be rewritten (`place`, in C where built),
and holds the tables and the small readers used once a match is placed: a start
tag's attributes with the HTML5 attribute grammar (a `>` inside a quoted value
does not end the tag, a quote only opens a value after `=`), the phone link of a
tag, the visible text of a matched span, the page title.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rules.numbers import plain, plain_digits
from rules.tokenizer import (
    NATIVE_PLACE,
    START_TAG,
    TAG_REST,
    TEXT,
    Placed,
    Position,
    Span,
    attribute_spans,
    classify_python,
)

# Inline elements a written number may be split across (`<b>04</b> 90 26 07 16`).
INLINE_ELEMENTS: frozenset[bytes] = frozenset(
    b"a abbr b bdi bdo cite code data dfn em font i kbd mark nobr q s samp small span strong"
    b" sub sup time u var wbr".split()
)

# The attribute whose value may carry a phone link, and the schemes that make it one.
PHONE_ATTRIBUTE = b"href"
PHONE_SCHEMES: tuple[bytes, ...] = (b"tel:", b"callto:")

TITLE_MAX_CHARS = 255

_WS = rb"\t\n\f\r "
TAG = re.compile(rb"</?([a-zA-Z][^" + _WS + rb"/>]*+)" + TAG_REST)
START_TAG_NAME = re.compile(rb"<[a-zA-Z][^" + _WS + rb"/>]*+")
# Tags and comments: the markup a written number may have between its digits.
MARKUP = re.compile(TAG.pattern + rb"|<!--.*?-->", re.DOTALL)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_ASCII_SPACES = re.compile(r"[\t\n\f\r ]+")


@dataclass(frozen=True)
class Attribute:
    name: bytes
    """Lower-cased attribute name."""
    start: int
    end: int
    """The value's span in the page (inside any quotes)."""


@dataclass(frozen=True)
class Tag:
    start: int
    end: int
    name: bytes
    """Lower-cased; end tags have a leading `/`."""


def phone_link_value(body: bytes, tag: Tag) -> Attribute | None:
    """The href of a start tag when it is a tel: or callto: link.

    Of duplicate attributes HTML5 keeps the first, even one without a value.
    """
    if tag.name.startswith(b"/"):
        return None
    spans = attribute_spans(body, tag.start + 1 + len(tag.name), tag.end)
    for name_start, name_end, value_start, value_end in spans:
        if body[name_start:name_end].lower() != PHONE_ATTRIBUTE:
            continue
        if value_start < 0 or not is_phone_link(body, value_start, value_end):
            return None
        return Attribute(PHONE_ATTRIBUTE, value_start, value_end)
    return None


def is_phone_link(body: bytes, start: int, end: int) -> bool:
    """Whether an href value (its span in the page) is a tel: or callto: link."""
    value = html.unescape(body[start:end].decode("latin-1"))
    return value.strip().lower().encode("latin-1", "replace").startswith(PHONE_SCHEMES)


def tag_name(body: bytes, start: int) -> bytes:
    """The lower-cased name of the start tag at `start` (empty when there is none)."""
    name = START_TAG_NAME.match(body, start)
    return name.group()[1:].lower() if name else b""


def decode_text(raw: bytes, charset: str) -> str:
    """Visible text of a fragment: tags dropped, entities decoded, whitespace collapsed."""
    if b"<" in raw or b"&" in raw:
        raw = TAG.sub(b"", _COMMENT.sub(b"", raw))
        return _ASCII_SPACES.sub(" ", html.unescape(raw.decode(charset, "replace"))).strip()
    return decode_plain(raw, charset)


def decode_plain(raw: bytes, charset: str) -> str:
    """`decode_text` of a fragment without `<` or `&`."""
    text = raw.decode(charset, "replace")
    # The usual number has nothing to collapse: no double space, and no tab or line
    # break, which are not printable (a no-break space is not either: the slow path).
    if "  " not in text and text.isprintable():
        return text.strip()
    return _ASCII_SPACES.sub(" ", text).strip()


def unescape_bytes(raw: bytes, charset: str) -> str:
    return html.unescape(raw.decode(charset, "replace"))


def title_text(body: bytes, span: tuple[int, int] | None, charset: str) -> str:
    if span is None:
        return ""
    raw = body[span[0] : span[1]].decode(charset, "replace")
    return " ".join(html.unescape(raw).split())[:TITLE_MAX_CHARS]


def place(
    body: bytes, spans: Sequence[Span], *, want_title: bool = False
) -> tuple[list[Placed], Span | None]:
    """The matches kept where the tokenizer places them, and the title's span.

    In a comment, an end tag or a raw-text element a match is dropped; inside a
    start tag it is kept only within the value of an href (the scanner checks that
    it is the tag's phone link); in text it is kept when every tag it spans is an
    inline element. A plain match (`numbers.plain`) comes with its digits read.
    """
    if NATIVE_PLACE is not None:
        return NATIVE_PLACE(body, spans, PHONE_ATTRIBUTE, INLINE_ELEMENTS, want_title)
    return place_python(body, spans, PHONE_ATTRIBUTE, INLINE_ELEMENTS, want_title)


def place_python(
    body: bytes,
    spans: Sequence[Span],
    attribute: bytes,
    inline_elements: frozenset[bytes],
    want_title: bool = False,
) -> tuple[list[Placed], Span | None]:
    """The pure-Python `place` (`rules._html5.place` is its twin): the tokenizer asked
    only about each match's first and last bytes and the byte after each `<` in it."""
    for start, end in spans:
        if not 0 <= start < end <= len(body):
            raise ValueError(f"span ({start}, {end}) is not within the body ({len(body)} bytes)")
    probes = _probes(body, spans)
    rows, title = classify_python(body, probes, want_title)
    places = dict(zip(probes, rows, strict=True))
    placed = [
        row
        for start, end in spans
        if (row := _placed(body, places, start, end, attribute, inline_elements)) is not None
    ]
    return placed, title


def _probes(body: bytes, spans: Sequence[Span]) -> list[int]:
    """The offsets that place the matches, sorted: each one's first and last bytes, and
    the byte after each `<` in it (an offset twice gets the same answer twice)."""
    probes: list[int] = []
    for start, end in spans:
        probes.append(start)
        lt = body.find(b"<", start, end)
        while lt >= 0:
            probes.append(lt + 1)
            lt = body.find(b"<", lt + 1, end)
        probes.append(end - 1)
    probes.sort()  # in order already (spans are, and end with a digit): one pass
    return probes


def _placed(
    body: bytes,
    places: Mapping[int, Position],
    start: int,
    end: int,
    attribute: bytes,
    inline_elements: frozenset[bytes],
) -> Placed | None:
    row = places[start]
    kind = row[0]
    if kind == TEXT:
        if places[end - 1][0] != TEXT:
            return None
        digits, positions = _plain_digits(body, start, end)
        if digits is None and not _visible_throughout(body, places, start, end, inline_elements):
            return None
        return (start, end, TEXT, -1, -1, -1, -1, -1, digits, positions)
    name_start, name_end, value_start, value_end = row[3:]
    if (
        kind == START_TAG
        and value_start <= start
        and end <= value_end
        and body[name_start:name_end].lower() == attribute
    ):
        tag = (row[1], row[2], name_start, value_start, value_end)
        return (start, end, START_TAG, *tag, *_plain_digits(body, start, end))
    return None


def _plain_digits(
    body: bytes, start: int, end: int
) -> tuple[str, tuple[int, ...]] | tuple[None, None]:
    written = body[start:end]
    return plain_digits(written, start) if plain(written) else (None, None)


def _visible_throughout(
    body: bytes,
    places: Mapping[int, Position],
    start: int,
    end: int,
    inline_elements: frozenset[bytes],
) -> bool:
    """A match in text stays in text: only inline tags and comments may stand inside it."""
    lt = body.find(b"<", start, end)
    while lt >= 0:
        kind, construct_start, construct_end = places[lt + 1][:3]
        inline = kind == TEXT or (
            construct_end <= end and _inline_markup(body, construct_start, inline_elements)
        )
        if not inline:
            return False
        lt = body.find(b"<", lt + 1, end)
    return True


def _inline_markup(body: bytes, start: int, inline_elements: frozenset[bytes]) -> bool:
    if body.startswith(b"<!--", start):
        return True
    tag = TAG.match(body, start)
    return tag is not None and tag.group(1).lower() in inline_elements
