"""The C helpers of the scan and their pure-Python twins give the same answers.

`Automaton.scan` reports a word (`data-dni-skip`) in the candidate search's own pass,
`write_digits` writes a tracking number's digits in place, and `_html5.place` decides
each candidate's context (text, tel: link, elsewhere) in the tokenizer's walk.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_numbers_native import page
from test_tokenizer import FRAGMENTS

from rules import html
from rules.numbers import NATIVE, Matcher, write_digits, write_digits_python
from rules.phones import Phone
from rules.tokenizer import NATIVE_PLACE


@pytest.mark.skipif(NATIVE is None, reason="rules._numbers is not built")
@given(page())
def test_scan_reports_the_word_in_the_same_pass(case: tuple[tuple[Phone, ...], bytes]) -> None:
    phones, body = case
    matcher = Matcher(phones)
    for word in (b"data-dni-skip", b"0", b"04", b""):
        spans, found = matcher.scan(body, word)
        assert spans == matcher.spans(body)
        assert found is (word in body)


@given(st.binary(min_size=1, max_size=40), st.data())
def test_write_digits_matches_the_python_twin(source: bytes, data: st.DataObject) -> None:
    offsets = st.lists(st.integers(0, len(source) - 1), min_size=1, max_size=12, unique=True)
    positions = tuple(sorted(data.draw(offsets)))
    digits = data.draw(st.text("0123456789", min_size=len(positions), max_size=len(positions)))
    assert write_digits(source, positions, digits) == write_digits_python(source, positions, digits)


NUMBERISH = st.lists(
    st.sampled_from(
        [
            *FRAGMENTS,
            b"04 90 26 07 16",
            b"&nbsp;",
            b"<span>",
            b"</span>",
            b"<!-- -->",
            b'<a href="tel:+33',
            b"<abbr title='>'>",
            b"%20",
        ]
    ),
    max_size=30,
).map(b"".join)


@pytest.mark.skipif(NATIVE_PLACE is None, reason="rules._html5 is not built")
@given(NUMBERISH, st.data())
def test_place_c_and_python_agree(body: bytes, data: st.DataObject) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(body)), max_size=8))))
    spans = [
        (start, end)
        for start, end in zip(cuts[::2], cuts[1::2], strict=False)
        if start < end and body.rfind(b"<", start, end) < end - 1  # not ending on a `<`
    ]
    args = (body, spans, html.PHONE_ATTRIBUTE, html.INLINE_ELEMENTS, True)
    assert NATIVE_PLACE is not None
    assert NATIVE_PLACE(*args) == html.place_python(*args)
