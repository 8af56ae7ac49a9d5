"""The skeleton selectors are evaluated on gives every occurrence the ancestors the page does.

`rules.tokenizer.skeleton` drops text, comments and raw-text content so that
selectolax builds the tree from a fraction of the page; these tests hold its
answers to those of the whole page with the marks inserted.
"""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from rules import Matcher, scan, tokenizer
from rules.selectors import _markers_in
from tests.test_corpus import body_of, configured, entry_ids, with_numbers

SELECTORS = (
    "footer", "header", "nav", "aside", "main", "article", "section", "div", "p", "li", "ul",
    "table", "tr", "td", "a", "span", "b", "strong", "address", "form", "body > div",
    "div > p", "[class]", "[id]", "[href]", "[itemprop]", "div div", "td a",
)  # fmt: skip

native = pytest.mark.skipif(tokenizer.NATIVE_SKELETON is None, reason="C extension not built")

SAMPLES = [
    pytest.param(b"<p>Tel 04 90 26 07 16</p>", id="text"),
    pytest.param(b"<html><head><title>t</title></head><body><p>x</p></body></html>", id="page"),
    pytest.param(b"<script>var s='<p>';</script><!-- <div> --><p>a</p>", id="hidden-dropped"),
    pytest.param(b"<textarea><b>x</b></textarea><b>y</b>", id="raw-text-emptied"),
    pytest.param(b"<!DOCTYPE html><p>x", id="doctype-kept"),
    pytest.param(b"<p title='a>b'>x</p>", id="quoted-gt"),
    pytest.param(b"<div", id="cut-off-tag"),
]


@native
@pytest.mark.parametrize("body", SAMPLES)
@pytest.mark.parametrize("marks", [(), (0,), "ends"])
def test_native_skeleton_keeps_tags_and_marks(body: bytes, marks: tuple[int, ...] | str) -> None:
    offsets = [0, len(body)] if marks == "ends" else list(marks)
    skeleton = tokenizer.skeleton(body, offsets)
    for k in range(len(offsets)):
        assert b"dniMark%dQ" % k in skeleton
    assert b"var s" not in skeleton and b"<!-- " not in skeleton
    assert len(skeleton) <= len(body) + 16 * (len(offsets) + 2)


@native
@pytest.mark.parametrize("entry", with_numbers(), ids=entry_ids(with_numbers()))
def test_selectors_see_the_same_ancestors_as_in_the_whole_page(entry: dict[str, object]) -> None:
    body = body_of(entry)
    page = scan(body, Matcher(configured(entry)))
    marks = sorted(
        o.tag.end if o.where == "tel" and o.tag is not None else o.start for o in page.occurrences
    )
    whole = LexborHTMLParser(tokenizer.marked(body, marks))
    bones = LexborHTMLParser(tokenizer.skeleton(body, marks))
    for selector in SELECTORS:
        assert _markers_in(bones, (selector,)) == _markers_in(whole, (selector,)), selector
