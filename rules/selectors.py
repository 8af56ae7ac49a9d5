"""Include/exclude CSS selectors and `data-dni-skip`, applied with selectolax.

selectolax builds the DOM but does not say where in the bytes a node came
from. So the scanner marks each occurrence: a copy of the page gets a unique
ASCII marker inserted at each occurrence's start, selectolax parses the copy,
and the markers found inside the serialised subtree of a matched element tell
which occurrences it holds. Markers are letters and digits, so inserting them
changes neither tokenization nor tree shape. This costs one parse of the page,
and only for pages that have occurrences and selectors (or `data-dni-skip`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser

if TYPE_CHECKING:
    from rules.scan import Occurrence

SKIP_SELECTOR = "[data-dni-skip]"

_MARKER = b"dniMark%dQ"
_MARKERS = re.compile(rb"dniMark(\d+)Q")


def filter_by_selectors(
    body: bytes, found: list[Occurrence], include: tuple[str, ...], exclude: tuple[str, ...]
) -> list[Occurrence]:
    """The occurrences inside an include match (if any) and inside no exclude match."""
    tree = LexborHTMLParser(_marked(body, found))
    excluded: set[int] = set()
    for selector in (*exclude, SKIP_SELECTOR):
        excluded |= _markers_in(tree, selector)
    allowed = set(range(len(found))) - excluded
    if include:
        allowed &= set().union(*(_markers_in(tree, selector) for selector in include))
    return [occurrence for index, occurrence in enumerate(found) if index in allowed]


def check_selector(selector: str) -> str | None:
    """None when selectolax accepts the selector, else its error message."""
    try:
        LexborHTMLParser(b"<p></p>").css(selector)
    except Exception as exc:  # selectolax raises bare Exception/ValueError subclasses
        return str(exc) or type(exc).__name__
    return None


def _marked(body: bytes, found: list[Occurrence]) -> bytes:
    pieces: list[bytes] = []
    pos = 0
    for index, occurrence in enumerate(found):
        pieces.append(body[pos : occurrence.start])
        pieces.append(_MARKER % index)
        pos = occurrence.start
    pieces.append(body[pos:])
    return b"".join(pieces)


def _markers_in(tree: LexborHTMLParser, selector: str) -> set[int]:
    found: set[int] = set()
    for node in tree.css(selector):
        markup = node.html or ""
        found.update(int(m.group(1)) for m in _MARKERS.finditer(markup.encode("utf-8", "replace")))
    return found
