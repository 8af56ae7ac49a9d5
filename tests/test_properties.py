"""Properties of scan + render on generated pages and on arbitrary bytes.

Generated pages are fragments whose kind is known: numbers in visible text or tel:
links (must change), numbers in script, style, comments and other attributes (must
not), and filler that cannot spell a French number (no `0`, no `+`). Tracking
numbers have the configured numbers' shape, so every replacement is digit for digit
and the output has the input's length.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rules import Matcher, Page, Tracking, parse_phone, scan

PHONES = (parse_phone("04 90 26 07 16"), parse_phone("+33 1 85 08 37 37"))
MATCHER = Matcher(PHONES)
SAME_SHAPE = {
    "+33490260716": Tracking("+33899123456"),
    "+33185083737": Tracking("+33185083799"),
}
IDENTITY = {p.e164: Tracking(p.e164) for p in PHONES}

WRITTEN = (
    "04 90 26 07 16",
    "0490260716",
    "04.90.26.07.16",
    "04&nbsp;90&nbsp;26&nbsp;07&nbsp;16",
    "04\u00a090\u00a026\u00a007\u00a016",
    "+33 4 90 26 07 16",
    "+33 (0)4 90 26 07 16",
    "0033 4 90 26 07 16",
    "&#43;33 4 90 26 07 16",
    "<b>04</b> 90 26 07 16",
    "01 85 08 37 37",
    "+33 1 85 08 37 37",
)
TEL = ("+33490260716", "0490260716", "04 90 26 07 16", "%2B33185083737", "0185083737")

VISIBLE = (
    "<p>Tél : {n} !</p>",
    "<td>{n}</td>",
    "<li><span>Appelez</span> le {n}</li>",
    "<noscript>{n}</noscript>",
)
HIDDEN = (
    '<script>var t = "{n}";</script>',
    '<script type="application/ld+json">{{"telephone": "{n}"}}</script>',
    "<style>/* {n} */</style>",
    "<!-- {n} -->",
    '<img alt="{n}" src="a.png">',
    "<div data-tel='{n}'></div>",
    '<input value="{n}">',
    "<textarea>{n}</textarea>",
    '<a href="/rappel?n={n}">x</a>',
)
FILLER_ALPHABET = "abcdefghijklmnopqrstuvwxyz ,;:!?.éàç€\n123456789"
SAFE_TAGS = ("<div>", "</div>", "<br>", "<b>gras</b>", '<p class="x">', "</p>", "<hr/>")


@dataclass(frozen=True)
class Fragment:
    kind: str  # "visible", "hidden" or "filler"
    text: str
    numbers: int = 0


@dataclass(frozen=True)
class Generated:
    body: bytes
    spans: tuple[tuple[str, int, int, int], ...]
    """(kind, start, end, numbers written) of every fragment, in bytes."""


def visible_fragment() -> st.SearchStrategy[Fragment]:
    text = st.builds(lambda t, n: Fragment("visible", t.format(n=n), 1), st.sampled_from(VISIBLE),
                     st.sampled_from(WRITTEN))  # fmt: skip
    link = st.builds(
        lambda tel, n: Fragment("visible", f'<a class="c" href="tel:{tel}">{n}</a>', 2),
        st.sampled_from(TEL),
        st.sampled_from(WRITTEN),
    )
    return st.one_of(text, link)


def hidden_fragment() -> st.SearchStrategy[Fragment]:
    return st.builds(
        lambda t, n: Fragment("hidden", t.format(n=n.replace("<b>", "").replace("</b>", ""))),
        st.sampled_from(HIDDEN),
        st.sampled_from(WRITTEN),
    )


def filler_fragment() -> st.SearchStrategy[Fragment]:
    words = st.text(FILLER_ALPHABET, max_size=40).map(lambda t: Fragment("filler", t))
    tags = st.sampled_from(SAFE_TAGS).map(lambda t: Fragment("filler", t))
    return st.one_of(words, tags)


@st.composite
def generated_pages(draw: st.DrawFn) -> Generated:
    fragments = draw(
        st.lists(st.one_of(visible_fragment(), hidden_fragment(), filler_fragment()), max_size=30)
    )
    encoding = draw(st.sampled_from(["utf-8", "cp1252"]))
    head = "<!DOCTYPE html><html><head><title>Page 04 90 26 07 16</title></head><body>\n"
    chunks, spans, pos = [head.encode(encoding)], [], len(head.encode(encoding))
    for fragment in fragments:
        data = fragment.text.encode(encoding)
        spans.append((fragment.kind, pos, pos + len(data), fragment.numbers))
        chunks.append(data + b"\n")
        pos += len(data) + 1
    chunks.append(b"</body></html>\n")
    return Generated(b"".join(chunks), tuple(spans))


def outside(page: Page) -> Iterator[tuple[int, int]]:
    """The byte ranges no occurrence covers."""
    pos = 0
    for occurrence in page.occurrences:
        yield pos, occurrence.start
        pos = occurrence.end
    yield pos, len(page.body)


def assert_well_formed(page: Page, body: bytes) -> None:
    assert page.body == body
    pos = 0
    for occurrence in page.occurrences:
        assert pos <= occurrence.start < occurrence.end <= len(body)
        assert occurrence.where in ("text", "tel")
        assert occurrence.phone in PHONES
        pos = occurrence.end


@given(generated_pages())
def test_identity_assignment_is_byte_identical(page: Generated) -> None:
    scanned = scan(page.body, MATCHER)
    assert scanned.render(IDENTITY) == page.body
    assert scanned.render({}) == page.body


@given(generated_pages())
def test_visible_numbers_change_and_nothing_else_does(page: Generated) -> None:
    scanned = scan(page.body, MATCHER)
    assert_well_formed(scanned, page.body)
    out = scanned.render(SAME_SHAPE)
    assert len(out) == len(page.body)
    for start, end in outside(scanned):
        assert out[start:end] == page.body[start:end]
    for kind, start, end, _ in page.spans:
        if kind == "visible":
            assert out[start:end] != page.body[start:end]
        else:
            assert out[start:end] == page.body[start:end], kind
    assert len(scanned.occurrences) == sum(numbers for *_, numbers in page.spans)


@given(generated_pages())
def test_click_leaves_no_original_number_where_one_was_found(page: Generated) -> None:
    scanned = scan(page.body, MATCHER)
    tokens = {p.e164: f"tok{i}" for i, p in enumerate(PHONES)}
    out = scanned.render_click(tokens, script_src="/__dni/reveal.js")
    assert scan(out, MATCHER, charset=scanned.charset).occurrences == ()
    assert out.count(b'<script src="/__dni/reveal.js" defer></script>') == (
        1 if scanned.occurrences else 0
    )


TOKENS = (
    b"<", b">", b"</", b"<!--", b"-->", b"--!>", b"<!", b"<?", b"<script>", b"</script>",
    b"<style>", b"</style", b"<textarea>", b"<title>", b"<a href=", b'"', b"'", b"=",
    b"tel:", b"callto:", b"&#43;", b"&nbsp;", b"&#xA0;", b"&", b"%2B", b"+33 ", b"(0)",
    b"04 90 26 07 16", b"0490260716", b"01 85 08 37 37", b"04", b"90", b" ", b"0", b"\xc2\xa0",
    b"\xa0", b"\xff", b"\xe2\x80\xaf", b"<span>", b"</span>", b"<b>", b"data-dni-skip",
    b"</body>", b"<meta charset=utf-16>", b"\xef\xbb\xbf", b"\n",
)  # fmt: skip
soup = st.lists(st.sampled_from(TOKENS), max_size=80).map(b"".join)


@given(st.one_of(st.binary(max_size=2000), soup), st.sampled_from([None, "utf-8", "cp1252"]))
@example(b"<!-->04 90 26 07 16", None)
@example(b'<a href="tel:&#43;33490260716">', None)
@example(b"\xef\xbb\xbf<b>04</b>\xa090 26 07 16", "cp1252")
def test_arbitrary_bytes_never_crash_and_keep_every_byte_outside_spans(
    body: bytes, charset: str | None
) -> None:
    page = scan(body, MATCHER, charset=charset)
    assert_well_formed(page, body)
    assert page.render(IDENTITY) == body
    out = page.render(SAME_SHAPE)
    assert len(out) == len(body)
    for start, end in outside(page):
        assert out[start:end] == body[start:end]
    page.render_click({"+33490260716": "t"}, script_src="/r.js")
    assert isinstance(page.title, str) and len(page.title) <= 512
    page.counts()


@given(st.sampled_from(TOKENS).flatmap(lambda t: st.integers(1, 4000).map(lambda n: t * n)))
def test_repeated_tokens_never_crash(body: bytes) -> None:
    page = scan(body, MATCHER)
    assert page.render(IDENTITY) == body


# Work is counted as function calls (Python and C) during scan + render: a
# per-occurrence or per-tag loop that re-reads the page would grow faster than
# the page. Wall-clock ratios are left to bench/rewrite.py.
ADVERSARIAL = {
    "near-misses": b"04 90 26 07 1x ",
    "real-numbers": b"<p>04 90 26 07 16</p>\n",
    "split-numbers": b"<p><span>04</span> 90 <b>26</b> 07 16</p>",
    "tel-links": b'<a href="tel:+33490260716">x</a>',
    "lone-zeros": b"0 ",
    "lone-lt": b"<",
    "open-comments": b"<!--",
    "bogus-comments": b"<? x >",
    "scripts": b"<script>var a = '04 90 26 07 16';</script>",
    "attributes": b"<img alt=\"04 90 26 07 16\" title='x>y'>",
    "entities": b"&#43;33&nbsp;",
    "inline-tags": b"<b>0</b>",
}


def count_calls(action: Callable[[], Any]) -> int:
    calls = 0

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def work(body: bytes) -> int:
    return count_calls(lambda: scan(body, MATCHER).render(SAME_SHAPE))


@pytest.mark.parametrize("chunk", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_work_grows_linearly_with_page_size(chunk: bytes) -> None:
    small = chunk * (4_000 // len(chunk) + 1)
    large = chunk * (8 * (4_000 // len(chunk) + 1))
    assert work(large) <= 8 * 1.5 * work(small) + 500


@pytest.mark.timeout(120)
@pytest.mark.parametrize("chunk", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_one_megabyte_of_adversarial_input_finishes(chunk: bytes) -> None:
    body = chunk * (1_000_000 // len(chunk))
    page = scan(body, MATCHER)
    assert len(page.render(SAME_SHAPE)) == len(body)
