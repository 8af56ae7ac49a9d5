"""Include/exclude CSS selectors and `data-dni-skip`, applied with selectolax.

selectolax builds the DOM but does not say where in the bytes a node came
from. So the scanner marks each occurrence with a unique ASCII marker in text
(at its start; for a tel: link, right after the link's start tag), selectolax
parses a document holding the marks, and the markers in the text of the
elements a selector matches tell which occurrences they hold. That document is
the page's skeleton (`tokenizer.skeleton`): its tags and doctype without text,
comments or raw-text content, so the tree builder reads a fraction of the page
and still gives each mark its ancestors; without the C extension it is the whole
page with the marks inserted. This costs one parse and one combined query per
kind, and only for pages that have occurrences and selectors (or `data-dni-skip`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser

from rules.tokenizer import contains, skeleton

if TYPE_CHECKING:
    from rules.scan import Occurrence

SKIP_ATTRIBUTE = b"data-dni-skip"
SKIP_SELECTOR = "[data-dni-skip]"

_MARKERS = re.compile(r"dniMark(\d+)Q")


def filter_by_selectors(
    body: bytes, found: list[Occurrence], include: tuple[str, ...], exclude: tuple[str, ...]
) -> list[Occurrence]:
    """The occurrences inside an include match (if any) and inside no exclude match."""
    places = sorted(
        (o.tag.end if o.where == "tel" and o.tag is not None else o.start, index)
        for index, o in enumerate(found)
    )
    owner = [index for _at, index in places]  # marker k -> occurrence index
    tree = LexborHTMLParser(skeleton(body, [at for at, _index in places]))
    skip = (SKIP_SELECTOR,) if contains(body, SKIP_ATTRIBUTE) else ()
    allowed = set(range(len(found))) - {owner[k] for k in _markers_in(tree, (*exclude, *skip))}
    if include:
        allowed &= {owner[k] for k in _markers_in(tree, include)}
    return [occurrence for index, occurrence in enumerate(found) if index in allowed]


def _markers_in(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> set[int]:
    found: set[int] = set()
    if not selectors:
        return found
    for node in tree.css(", ".join(selectors)):
        found.update(int(m) for m in _MARKERS.findall(node.text(deep=True)))
    return found
