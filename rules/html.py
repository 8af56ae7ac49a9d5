"""HTML5 tokenization at byte level, only as far as the scanner needs it.

The scanner never builds a tree and never tokenizes the whole page: a page is
mostly markup nobody rewrites, and walking every tag in Python costs more than
parsing the page in C. It asks two questions about the few offsets where a
configured number was matched:

1. Is the offset inside something never rewritten: a comment, a raw-text
   element (script, style, textarea, title, xmp, iframe, noembed, noframes,
   plaintext), a doctype or bogus comment? `Hidden` walks only the openers of
   such ranges (`<!`, `<?`, `</3`, `<script`...), each found by one regex search
   that jumps from `<` to `<` in C, and finds each range's end by HTML5's rules:
   `</script` ends a script even inside a JS string, `<!-->` is a complete
   comment, a bogus comment ends at the first `>`, an unterminated range runs
   to the end of the page. An opener that stands inside a tag's quoted
   attribute value opens nothing.
2. Is the offset inside a start tag, and if so in which attribute's value?
   `enclosing_tag` goes back to the nearest `<` that starts a tag and reads the
   tag forward with the HTML5 attribute grammar: a `>` inside a quoted value
   does not end the tag, and a quote only opens a value after `=`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Elements whose content is never markup and never rewritten. <noscript> is
# absent on purpose: visitors without JavaScript see its content.
RAW_TEXT_ELEMENTS: tuple[str, ...] = (
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
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
# The inside of a tag after its name: attributes with quoted or unquoted
# values, stray slashes and whitespace, up to and including `>`.
TAG_REST = (
    rb"(?:[" + _WS + rb"/]++"
    rb"|=?[^" + _WS + rb"/>=]*+"
    rb"(?:[" + _WS + rb"]*+=[" + _WS + rb"]*+"
    rb"(?:\"[^\"]*+\"|'[^']*+'|[^" + _WS + rb">\"'][^" + _WS + rb">]*+)?)?+"
    rb")*+>"
)
TAG = re.compile(rb"</?([a-zA-Z][^" + _WS + rb"/>]*+)" + TAG_REST)
START_TAG_NAME = re.compile(rb"<[a-zA-Z][^" + _WS + rb"/>]*+")
# Tags and comments: the markup a written number may have between its digits.
MARKUP = re.compile(TAG.pattern + rb"|<!--.*?-->", re.DOTALL)
_ATTRIBUTE = re.compile(
    rb"(=?[^" + _WS + rb"/>=]*+)(?:[" + _WS + rb"]*+=[" + _WS + rb"]*+"
    rb"(?:\"([^\"]*+)\"|'([^']*+)'|([^" + _WS + rb">\"'][^" + _WS + rb">]*+))?)?"
)


def _raw_element(name: bytes) -> bytes:
    """A raw-text element after its `<`, to its end tag (or the end of the page).

    The first letter is a class (`[sS]`), not a case-insensitive literal, so the
    engine rejects other tags on one byte.
    """
    first = rb"[" + name[:1].lower() + name[:1].upper() + rb"]"
    named = rb"(?i:" + name + rb")"
    return (
        first
        + rb"(?i:"
        + name[1:]
        + rb")(?=["
        + _WS
        + rb"/>])"
        + TAG_REST
        + rb"(?:[^<]++|<(?!/"
        + named
        + rb"["
        + _WS
        + rb"/>]))*+"
        + rb"(?:</"
        + named
        + rb"(?:["
        + _WS
        + rb"/]"
        + TAG_REST
        + rb"|>)|.*)"
    )


# Every range never rewritten, as one regex after a literal `<`: the engine jumps
# from `<` to `<` in C, rejects ordinary tags on their first byte or two, and
# yields only the hidden ranges.
_HIDDEN = re.compile(
    rb"<(?:!--(?:-?>|(?:[^-]++|-(?!-!?>))*+(?:--!?>|\Z))"
    rb"|![^>]*+(?:>|\Z)|\?[^>]*+(?:>|\Z)|/(?![a-zA-Z>])[^>]*+(?:>|\Z)"
    rb"|[pP](?i:laintext)(?=[" + _WS + rb"/>]).*"
    rb"|"
    + b"|".join(_raw_element(name.encode()) for name in RAW_TEXT_ELEMENTS if name != "plaintext")
    + rb")",
    re.DOTALL,
)
_AFTER_MARKUP = frozenset({b">", b"\n", b"\r", b"\t", b" ", b""})
_RAW_END: dict[bytes, re.Pattern[bytes]] = {
    name.encode(): re.compile(rb"</(?i:" + name.encode() + rb")(?=[" + _WS + rb"/>])")
    for name in RAW_TEXT_ELEMENTS
}
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_SCRIPT_TAG = rb"<(?i:script)(?=[" + _WS + rb"/>])"
_SCRIPT_END = rb"</(?i:script)(?=[" + _WS + rb"/>])"
_SCRIPT_STATES: dict[str, re.Pattern[bytes]] = {
    "data": re.compile(_SCRIPT_END + rb"|<!--"),
    "escaped": re.compile(_SCRIPT_END + rb"|-->|" + _SCRIPT_TAG),
    "double": re.compile(_SCRIPT_END + rb"|-->"),
}
_ASCII_SPACES = re.compile(r"[\t\n\f\r ]+")
TAG_WALK_BACK = 4
_QUOTES = re.compile(rb"[\"']")
_LETTER_OR_SLASH = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/")


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


class Hidden:
    """The ranges of one page that are never rewritten, walked lazily in page order."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.ranges: list[tuple[int, int]] = []
        self.title: tuple[int, int] | None = None
        self._scanned = 0
        self._matches = _HIDDEN.finditer(body)

    def contains(self, start: int, end: int) -> bool:
        """Whether [start, end) overlaps a hidden range."""
        if self._scanned < end:
            self._advance(end)
        for s, e in reversed(self.ranges):  # sorted and disjoint: a short walk back
            if e <= start:
                return False
            if s < end:
                return True
        return False

    def find_title(self) -> tuple[int, int] | None:
        """The content span of the first <title> outside comments and scripts."""
        while self.title is None and self._scanned < len(self.body):
            self._advance(self._scanned + 1)
        return self.title

    def _advance(self, target: int) -> None:
        """Record hidden ranges until one ends at or after `target` (or the page ends).

        One tight loop over the regex's matches: a page may hold hundreds of
        scripts and comments, and only the rare suspicious ones cost more.
        """
        body, ranges, after_markup = self.body, self.ranges, _AFTER_MARKUP
        for match in self._matches:
            start, end = match.span()
            if body[start - 1 : start] not in after_markup and _opens_nothing(body, start):
                self._matches = _HIDDEN.finditer(body, start + 1)
                return self._advance(target)
            kind = body[start + 1]
            if kind in b"sS" and body.find(b"<!--", start, end) >= 0 and _is_script(body, start):
                end = self._escaped_script_end(start, end)
            elif kind in b"tT" and self.title is None and _is_title(body, start):
                self.title = _content(body, start, end, b"title")
            ranges.append((start, end))
            self._scanned = end
            if end >= target:
                return None
        self._scanned = len(body)
        return None

    def _escaped_script_end(self, start: int, end: int) -> int:
        """A script holding `<!--` ends where HTML5's escape states say, maybe further on."""
        body = self.body
        tag = TAG.match(body, start)
        close = _script_end(body, tag.end()) if tag else None
        end_tag = TAG.match(body, close.start()) if close else None
        real = end_tag.end() if end_tag else len(body)
        if real != end:
            self._matches = _HIDDEN.finditer(body, real)
        return real


def _is_script(body: bytes, start: int) -> bool:
    return body[start + 1 : start + 7].lower() == b"script"


def _is_title(body: bytes, start: int) -> bool:
    return body[start + 1 : start + 6].lower() == b"title"


def _opens_nothing(body: bytes, start: int) -> bool:
    """An opener inside a start tag's quoted attribute value opens no hidden range."""
    return _may_be_in_attribute(body, start) and inside_tag(body, start)


def _content(body: bytes, start: int, end: int, name: bytes) -> tuple[int, int]:
    tag = TAG.match(body, start)
    content_start = tag.end() if tag else end
    close = _RAW_END[name].search(body, content_start, end)
    return (content_start, close.start() if close else end)


def _script_end(body: bytes, pos: int) -> re.Match[bytes] | None:
    """The `</script` that ends a script, through HTML5's script data escape states.

    Inside `<!--` a `<script` opens a "double escaped" section in which
    `</script` does not end the element; `-->` leaves both escapes.
    """
    state = "data"
    while True:
        token = _SCRIPT_STATES[state].search(body, pos)
        if token is None:
            return None
        text = token.group().lower()
        pos = token.end()
        if text.startswith(b"</script"):
            if state != "double":
                return token
            state = "escaped"
        elif text == b"<!--":
            state = "escaped"
        elif text == b"-->":
            state = "data"
        elif state == "escaped":  # `<script` inside an escape
            state = "double"


def _may_be_in_attribute(body: bytes, offset: int) -> bool:
    """False when `offset` follows a `>` with no `<` or quote in between (the common case)."""
    gt = body.rfind(b">", 0, offset)
    if gt < 0 or body.rfind(b"<", gt, offset) >= 0:
        return True
    return _QUOTES.search(body, gt, offset) is not None


def enclosing_tag(body: bytes, offset: int) -> Tag | None:
    """The start or end tag that `offset` stands inside, or None when it is in text.

    The nearest `<` before the offset may itself sit inside an earlier tag's
    quoted attribute value (`title="<span>Call</span> 04 90 26 07 16"`), so the
    walk goes back over up to `TAG_WALK_BACK` tag starts: the first whose tag,
    read with the attribute grammar, reaches past the offset holds it.
    """
    lt = offset
    for _ in range(TAG_WALK_BACK):
        lt = _tag_start_before(body, lt)
        if lt < 0:
            return None
        tag = TAG.match(body, lt)
        if tag is None:
            if body[lt + 1] == 0x2F:  # `</` + junk: a bogus comment, hidden elsewhere
                continue
            return Tag(lt, len(body), b"")  # unterminated: the tag runs to the end
        if tag.end() > offset:
            prefix = b"/" if body[lt + 1] == 0x2F else b""
            return Tag(lt, tag.end(), prefix + tag.group(1).lower())
    return None


def _tag_start_before(body: bytes, offset: int) -> int:
    lt = body.rfind(b"<", 0, offset)
    while lt >= 0 and (lt + 1 >= len(body) or body[lt + 1] not in _LETTER_OR_SLASH):
        lt = body.rfind(b"<", 0, lt)
    return lt


def inside_tag(body: bytes, offset: int) -> bool:
    tag = enclosing_tag(body, offset)
    return tag is not None and tag.start < offset


def attributes(body: bytes, tag: Tag) -> list[Attribute]:
    """The attributes of a start tag with values, the first occurrence of each name."""
    found: list[Attribute] = []
    seen: set[bytes] = set()
    pos = tag.start + 1 + len(tag.name)
    limit = tag.end - 1 if body[tag.end - 1 : tag.end] == b">" else tag.end
    while pos < limit:
        if body[pos] in b"\t\n\f\r /":
            pos += 1
            continue
        match = _ATTRIBUTE.match(body, pos, limit)
        if match is None or match.end() == pos:
            break
        name = match.group(1).lower()
        for group in (2, 3, 4):
            if match.group(group) is not None and name not in seen:
                found.append(Attribute(name, match.start(group), match.end(group)))
        seen.add(name)
        pos = match.end()
    return found


def phone_link_value(body: bytes, tag: Tag) -> Attribute | None:
    """The href of a start tag when it is a tel: or callto: link."""
    if tag.name.startswith(b"/"):
        return None
    for attribute in attributes(body, tag):
        if attribute.name == PHONE_ATTRIBUTE:
            value = html.unescape(body[attribute.start : attribute.end].decode("latin-1"))
            if value.strip().lower().encode("latin-1", "replace").startswith(PHONE_SCHEMES):
                return attribute
            return None
    return None


def tags_in(body: bytes, start: int, end: int) -> list[re.Match[bytes]]:
    """The tags inside [start, end)."""
    return [m for m in TAG.finditer(body, start, end) if m.end() <= end]


def decode_text(raw: bytes, charset: str) -> str:
    """Visible text of a fragment: tags dropped, entities decoded, whitespace collapsed."""
    text = TAG.sub(b"", _COMMENT.sub(b"", raw)).decode(charset, "replace")
    return _ASCII_SPACES.sub(" ", html.unescape(text)).strip()


def unescape_bytes(raw: bytes, charset: str) -> str:
    return html.unescape(raw.decode(charset, "replace"))


def title_text(body: bytes, span: tuple[int, int] | None, charset: str) -> str:
    if span is None:
        return ""
    raw = body[span[0] : span[1]].decode(charset, "replace")
    return " ".join(html.unescape(raw).split())[:TITLE_MAX_CHARS]
