"""Where byte offsets stand in a page's HTML5 token stream: text, a start tag, or hidden.

`classify(body, offsets, want_title)` runs the HTML5 tokenizer (WHATWG HTML
§13.2.5, without foreign content) from the start of the page, only as far as the
last offset (and the first `<title>` when asked), and returns one row per offset:

    (kind, tag_start, tag_end, name_start, name_end, value_start, value_end)

- `TEXT`: the data state, or exactly the `<` that starts a construct. Other fields -1.
- `HIDDEN`: a comment, bogus comment or doctype, an end tag, the content (and end
  tag) of a raw-text element, or a tag the end of the page cuts off. The span is
  the construct's (a raw-text element's runs from its start tag's `<`).
- `START_TAG`: inside a start tag, whose span (past its `>`) follows; when the
  offset is in an attribute value, that attribute's name span and value span
  (inside any quotes). Of duplicate attributes HTML5 keeps the first; the row
  names the one the offset is in, so callers compare names themselves.

The second value is the content span of the first `<title>` met in the data
state: after its start tag's `>` up to its `</title` (or the end of the page).
It is None when there is none, or when `want_title` is false and the title does
not start before the last offset.

Theory of operation. Constructs are found whole, never byte by byte: one regex
(`_SKIP`) swallows text and every ordinary construct that ends before the next
offset, so Python runs once per offset rather than per tag; the construct that
holds the offset, and raw-text elements, are read on their own by regexes that
spell HTML5's rules (a `>` inside a quoted value does not end a tag, a quote
opens a value only after `=`, `<!-->` is a whole comment, script data has its
escape states). The C module `rules._html5` does the same walk with memchr and
is used when it was built; `classify_python` gives the same answers, and the
tests hold both to a state-by-state transcription of the standard.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import groupby

TEXT = 0
HIDDEN = 1
START_TAG = 2

Position = tuple[int, int, int, int, int, int, int]
Span = tuple[int, int]
Classified = tuple[list[Position], Span | None]

# Elements whose content the tree builder switches the tokenizer out of markup for.
# <noscript> and <template> are ordinary: their content is tokenized as markup.
RAW_TEXT_ELEMENTS: frozenset[bytes] = frozenset(
    {b"style", b"xmp", b"iframe", b"noembed", b"noframes", b"textarea", b"title"}
)
SCRIPT = b"script"
PLAINTEXT = b"plaintext"  # never ends: the rest of the page is text
TITLE = b"title"

_TEXT: Position = (TEXT, -1, -1, -1, -1, -1, -1)


def _compile(pattern: str) -> re.Pattern[bytes]:
    """A bytes regex with `{ws}` standing for HTML5 whitespace (CR included: the
    input stream turns it into LF)."""
    return re.compile(pattern.replace("{ws}", r"\t\n\f\r ").encode(), re.DOTALL)


# One attribute in the "before attribute name" state: a name (which may start with
# `=`) and, when `=` follows, its value. The `(?!=)` branch forbids reading `=` as
# the next name after a name: an unterminated quoted value must fail the tag.
_ATTRIBUTE = (
    r"[^{ws}/>][^{ws}/>=]*+[{ws}]*+"
    r"(?:=[{ws}]*+(?:\"[^\"]*+\"|'[^']*+'|[^{ws}>\"'][^{ws}>]*+|(?=>))|(?!=))"
)
# A tag after its name, through its `>`: no match when the page ends first.
_TAG_REST = rf"(?:[{{ws}}/]++|{_ATTRIBUTE})*+>"


def _raw_start_lookahead() -> str:
    """`(?!...)` rejecting raw-text start tags, dispatched on a case-sensitive first
    letter: the regex engine tries case-insensitive alternatives slowly, on every tag."""
    names = sorted(name.decode() for name in (*RAW_TEXT_ELEMENTS, SCRIPT, PLAINTEXT))
    branches = [
        f"[{first}{first.upper()}](?i:{'|'.join(name[1:] for name in group)})"
        for first, group in groupby(names, key=lambda name: name[0])
    ]
    return "(?!(?:" + "|".join(branches) + ")[{ws}/>])"


_TAG_REST_RE = _compile(_TAG_REST)
TAG_REST: bytes = _TAG_REST_RE.pattern
"""A tag after its name through its `>`, as HTML5 tokenizes it (for other modules' regexes)."""
_TAG_NAME = _compile(r"[a-zA-Z][^{ws}/>]*+")
_END_TAG = _compile(r"</[a-zA-Z][^{ws}/>]*+" + _TAG_REST)
_COMMENT = _compile(r"<!--(?:-?>|(?:[^-]++|-(?!-!?>))*+--!?>)")
_ATTRIBUTE_PARTS = _compile(
    r"[{ws}/]*+([^{ws}/>][^{ws}/>=]*+)[{ws}]*+"
    r"(?:=[{ws}]*+(?:\"([^\"]*+)\"|'([^']*+)'|([^{ws}>\"'][^{ws}>]*+)|(?=>))|(?!=))"
)
# A `<` that starts a construct; any other `<` (and `</` at the end) is text.
_OPENER = _compile(r"<(?:[a-zA-Z!?]|/.)")
# Text and whole ordinary constructs, stopping before a raw-text element's start
# tag and before any construct the search bound cuts. Every lookahead needs a byte
# it can see, so a bound never turns a construct into another one.
_SKIP = _compile(
    r"(?:[^<]++"
    r"|<(?=[^a-zA-Z!?/])"
    rf"|<{_raw_start_lookahead()}[a-zA-Z][^{{ws}}/>]*+{_TAG_REST}"
    rf"|</[a-zA-Z][^{{ws}}/>]*+{_TAG_REST}"
    r"|</>"
    r"|</[^a-zA-Z>][^>]*+>"
    r"|<!--(?:-?>|(?:[^-]++|-(?!-!?>))*+--!?>)"
    r"|<!(?!--)[^>]*+>"
    r"|<\?[^>]*+>"
    r")*+"
)
_RAW_END: dict[bytes, re.Pattern[bytes]] = {
    name: _compile(rf"</(?i:{name.decode()})[{{ws}}/>]") for name in RAW_TEXT_ELEMENTS
}
# Script data and its escape states: what ends or changes each.
_SCRIPT_END = r"</(?i:script)[{ws}/>]"
_SCRIPT_DATA = _compile(_SCRIPT_END + r"|<!--")
_SCRIPT_ESCAPED = _compile(_SCRIPT_END + r"|<(?i:script)[{ws}/>]|-->")
_SCRIPT_DOUBLE_ESCAPED = _compile(_SCRIPT_END + r"|-->")


class _Construct:
    """One construct from its `<` to its end; for a start tag, where its attributes
    begin and where the tag ends (a raw-text element's content follows it)."""

    __slots__ = ("attrs", "end", "start", "tag_end", "values")

    def __init__(self, start: int, end: int, attrs: int = -1, tag_end: int = -1) -> None:
        self.start, self.end, self.attrs, self.tag_end = start, end, attrs, tag_end
        self.values: list[tuple[int, int, int, int]] | None = None

    def position(self, body: bytes, offset: int) -> Position:
        if offset >= self.tag_end:
            return (HIDDEN, self.start, self.end, -1, -1, -1, -1)
        if self.values is None:
            self.values = _attribute_values(body, self.attrs, self.tag_end)
        values = self.values
        i = bisect_right(values, (offset, len(body))) - 1
        if i >= 0 and offset < values[i][1]:
            vs, ve, ns, ne = values[i]
            return (START_TAG, self.start, self.tag_end, ns, ne, vs, ve)
        return (START_TAG, self.start, self.tag_end, -1, -1, -1, -1)


def attribute_spans(body: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(name_start, name_end, value_start, value_end) of each attribute of a start tag,
    read from `start` (just after the tag's name) up to `end`; -1, -1 for no value."""
    found: list[tuple[int, int, int, int]] = []
    pos = start
    while (match := _ATTRIBUTE_PARTS.match(body, pos, end)) is not None:
        # Groups 2 to 4 are the value's alternatives: the last one matched is the value.
        value = match.lastindex
        name_start, name_end = match.span(1)
        if value is not None and value > 1:
            found.append((name_start, name_end, *match.span(value)))
        else:
            found.append((name_start, name_end, -1, -1))
        pos = match.end()
    return found


def _attribute_values(body: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(value_start, value_end, name_start, name_end) of each attribute with a value."""
    return [(vs, ve, ns, ne) for ns, ne, vs, ve in attribute_spans(body, start, end) if vs >= 0]


def _bogus(body: bytes, start: int, search_from: int) -> _Construct:
    close = body.find(b">", search_from)
    return _Construct(start, len(body) if close < 0 else close + 1)


def _script_close(body: bytes, pos: int) -> int:
    """Where the `</script` that ends script data starts, through the escape states:
    inside `<!--` a `<script` starts a double-escaped run in which `</script` only
    returns to escaped; `-->` leaves both; the dashes of `<!--` count towards it."""
    state = _SCRIPT_DATA
    while (match := state.search(body, pos)) is not None:
        token = match[0]
        if token[1:2] == b"/":
            if state is not _SCRIPT_DOUBLE_ESCAPED:
                return match.start()
            state, pos = _SCRIPT_ESCAPED, match.end()
        elif token == b"<!--":
            state, pos = _SCRIPT_ESCAPED, match.start() + 2
        elif token == b"-->":
            state, pos = _SCRIPT_DATA, match.end()
        else:  # `<script` while escaped
            state, pos = _SCRIPT_DOUBLE_ESCAPED, match.end()
    return len(body)


def _raw_close(body: bytes, name: bytes, pos: int) -> int:
    if name == PLAINTEXT:
        return len(body)
    if name == SCRIPT:
        return _script_close(body, pos)
    match = _RAW_END[name].search(body, pos)
    return len(body) if match is None else match.start()


def _start_tag(body: bytes, start: int) -> tuple[_Construct, Span | None]:
    """A start tag and, after a raw-text element's, its content and end tag."""
    n = len(body)
    name_match = _TAG_NAME.match(body, start + 1)
    assert name_match is not None  # `<` + a letter
    attrs = name_match.end()
    rest = _TAG_REST_RE.match(body, attrs)
    if rest is None:
        return _Construct(start, n), None
    tag_end = rest.end()
    name = name_match[0].lower()
    if name not in RAW_TEXT_ELEMENTS and name not in (SCRIPT, PLAINTEXT):
        return _Construct(start, tag_end, attrs, tag_end), None
    close = _raw_close(body, name, tag_end)
    end_tag = _TAG_REST_RE.match(body, close + 2 + len(name)) if close < n else None
    end = n if end_tag is None else end_tag.end()
    title = (tag_end, close) if name == TITLE else None
    return _Construct(start, end, attrs, tag_end), title


def _construct(body: bytes, start: int) -> tuple[_Construct, Span | None]:
    """The construct whose `<` is at `start` (`_OPENER` matched there)."""
    second = body[start + 1]
    if second == 0x21:  # `<!`
        if body.startswith(b"--", start + 2):
            match = _COMMENT.match(body, start)
            return _Construct(start, len(body) if match is None else match.end()), None
        return _bogus(body, start, start + 2), None
    if second == 0x3F:  # `<?`
        return _bogus(body, start, start + 1), None
    if second != 0x2F:
        return _start_tag(body, start)
    third = body[start + 2]
    if third == 0x3E:  # `</>` is dropped
        return _Construct(start, start + 3), None
    if not 0 <= (third | 0x20) - 0x61 < 26:  # not an ASCII letter
        return _bogus(body, start, start + 2), None
    match = _END_TAG.match(body, start)
    return _Construct(start, len(body) if match is None else match.end()), None


class _Walk:
    """The tokenizer's progress through one page: `pos` is always in the data state."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0
        self.current: _Construct | None = None
        self.title: Span | None = None

    def position(self, offset: int) -> Position:
        body = self.body
        while True:
            current = self.current
            if current is not None and offset < current.end:
                return current.position(body, offset)
            match = _SKIP.match(body, self.pos, offset)
            assert match is not None  # the pattern matches the empty string
            stop = self.pos = match.end()
            if stop == offset:
                return _TEXT
            if _OPENER.match(body, stop) is None:  # `<` as text
                self.pos = stop + 1
            else:
                self._enter(stop)

    def find_title(self) -> None:
        body, n = self.body, len(self.body)
        while self.title is None:
            match = _SKIP.match(body, self.pos)
            assert match is not None
            stop = self.pos = match.end()
            if stop >= n:
                return
            if _OPENER.match(body, stop) is None:
                self.pos = stop + 1
            else:
                self._enter(stop)

    def _enter(self, start: int) -> None:
        construct, title = _construct(self.body, start)
        if self.title is None:
            self.title = title
        self.current = construct
        self.pos = construct.end


def _check(body: bytes, offsets: Sequence[int]) -> None:
    previous = 0
    for offset in offsets:
        if not 0 <= offset < len(body):
            raise ValueError(f"offset {offset} is outside the body ({len(body)} bytes)")
        if offset < previous:
            raise ValueError("offsets must be sorted")
        previous = offset


def classify_python(body: bytes, offsets: Sequence[int], want_title: bool = False) -> Classified:
    """The pure-Python tokenizer walk; same answers as the C module."""
    _check(body, offsets)
    walk = _Walk(body)
    positions = [walk.position(offset) for offset in offsets]
    if want_title:
        walk.find_title()
    return positions, walk.title


Placed = tuple[int, int, int, int, int, int, int, int, str | None, tuple[int, ...] | None]
"""A match kept where it stands: (start, end, kind, tag_start, tag_end, name_start,
value_start, value_end, digits, positions); kind `TEXT`, or `START_TAG` in the value of the
phone attribute; for a plain match (`numbers.plain`) its digits and their offsets, else None."""

_Classify = Callable[[bytes, Sequence[int], bool], Classified]
_Contains = Callable[[bytes, bytes], bool]
_Skeleton = Callable[[bytes, Sequence[int]], bytes]
_Place = Callable[
    [bytes, Sequence[Span], bytes, frozenset[bytes], bool], tuple[list[Placed], Span | None]
]
try:
    from rules._html5 import classify as _native_classify
    from rules._html5 import contains as _native_contains
    from rules._html5 import place as _native_place
    from rules._html5 import skeleton as _native_skeleton

    NATIVE: _Classify | None = _native_classify
    NATIVE_CONTAINS: _Contains | None = _native_contains
    NATIVE_PLACE: _Place | None = _native_place
    NATIVE_SKELETON: _Skeleton | None = _native_skeleton
except ImportError:  # built without a C compiler: the Python walk gives the same answers
    NATIVE = None
    NATIVE_CONTAINS = None
    NATIVE_PLACE = None
    NATIVE_SKELETON = None


MARKER = b"dniMark%dQ"


def marked(body: bytes, marks: Sequence[int]) -> bytes:
    """The page with "dniMark<k>Q" inserted at the k-th of the sorted mark offsets."""
    pieces: list[bytes] = []
    pos = 0
    for k, at in enumerate(marks):
        pieces += (body[pos:at], MARKER % k)
        pos = at
    pieces.append(body[pos:])
    return b"".join(pieces)


def skeleton(body: bytes, marks: Sequence[int]) -> bytes:
    """A document whose tree gives each mark ("dniMark<k>Q") its ancestors in the page.

    In C: the page's tags and doctype only (text, comments and raw-text content
    dropped), a fraction of the page for a tree builder to read. Without the
    extension: the whole page with the marks inserted.
    """
    if NATIVE_SKELETON is not None:
        return NATIVE_SKELETON(body, marks)
    return marked(body, marks)


def contains(body: bytes, needle: bytes) -> bool:
    """`needle in body`, with the C library's memmem where built (several times faster)."""
    if NATIVE_CONTAINS is not None:
        return NATIVE_CONTAINS(body, needle)
    return needle in body


def classify(body: bytes, offsets: Sequence[int], want_title: bool = False) -> Classified:
    """Where each offset (sorted, each in [0, len(body))) stands; see the module doc."""
    if NATIVE is not None:
        return NATIVE(body, offsets, want_title)
    return classify_python(body, offsets, want_title)
