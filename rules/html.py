"""The bits of HTML the scanner and renderer read around an occurrence.

Where an offset stands in the token stream (text, a start tag, hidden) is the
tokenizer's business (`rules.tokenizer`). This module holds the tables and the
small readers used once a match is placed: a start tag's attributes with the
HTML5 attribute grammar (a `>` inside a quoted value does not end the tag, a
quote only opens a value after `=`), the phone link of a tag, the visible text
of a matched span, the page title.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from rules.tokenizer import TAG_REST, attribute_spans

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
_COLLAPSIBLE = re.compile(r"[\t\n\f\r]|  ")  # text _ASCII_SPACES would change


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
    if _COLLAPSIBLE.search(text) is None:  # the usual number: nothing to collapse
        return text.strip()
    return _ASCII_SPACES.sub(" ", text).strip()


def unescape_bytes(raw: bytes, charset: str) -> str:
    return html.unescape(raw.decode(charset, "replace"))


def title_text(body: bytes, span: tuple[int, int] | None, charset: str) -> str:
    if span is None:
        return ""
    raw = body[span[0] : span[1]].decode(charset, "replace")
    return " ".join(html.unescape(raw).split())[:TITLE_MAX_CHARS]
