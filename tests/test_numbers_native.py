"""The C automaton finds exactly the matches the regexes find, on any page.

`Matcher.raw_matches` is compared between the native path and `native=False`
(the regexes) on every written form of the rules tables, on random pages built
from digit groups, separators of every kind, entities, tags, comments and
pluses, on the corpus pages, and on adversarial megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

import pytest
import test_corpus
import test_rules_forms
import test_rules_tel
from factories import ORIGINAL, TRACKING
from hypothesis import example, given
from hypothesis import strategies as st

from rules.numbers import NATIVE, Matcher
from rules.phones import Phone, parse_phone

pytestmark = pytest.mark.skipif(NATIVE is None, reason="rules._numbers is not built")

PHONES: tuple[tuple[str, str], ...] = (
    (ORIGINAL, "FR"),
    (TRACKING, "FR"),
    ("01 99 00 42 17", "FR"),
    ("0 800 12 34 56", "FR"),
    ("06 12 34 56 78", "FR"),
    ("+1 617 495 6890", "US"),
    ("+1 617 496 1234", "US"),
    ("+1 212 555 0123", "US"),
    ("+49 40 21091730", "DE"),
    ("+49 30 1234567", "DE"),
    ("+49 1512 3456789", "DE"),
    ("+39 011 6706111", "IT"),
    ("+39 06 1234 5678", "IT"),
    ("+39 333 123 4567", "IT"),
    ("+44 20 3637 4774", "GB"),
    ("+44 161 496 0000", "GB"),
    ("+7 777 941 33 23", "KZ"),
)
ALL_PHONES = tuple(parse_phone(text, region) for text, region in PHONES)


def assert_same(phones: Iterable[Phone], body: bytes) -> None:
    phones = tuple(phones)
    native, regexes = Matcher(phones), Matcher(phones, native=False)
    assert native.native and not regexes.native
    assert sorted(native.raw_matches(body)) == sorted(regexes.raw_matches(body))
    assert list(native.finditer(body)) == list(regexes.finditer(body))


# ---- the rules tables ------------------------------------------------------------


def written_forms(module: ModuleType) -> Iterable[str]:
    """Every string of the module's tables: params' values and plain string lists."""
    for table in vars(module).values():
        if not isinstance(table, list):
            continue
        for row in table:
            values = row.values if hasattr(row, "values") else (row,)
            yield from (value for value in values if isinstance(value, str))


FORMS = sorted(set(written_forms(test_rules_forms)) | set(written_forms(test_rules_tel)))


@pytest.mark.parametrize("written", FORMS)
def test_table_forms(written: str) -> None:
    for context in ("{}", "<p>Appelez le {} !</p>", '<a href="tel:{}">{}</a>', "1{}2"):
        assert_same(ALL_PHONES, context.replace("{}", written).encode())


@pytest.mark.parametrize("phone", ALL_PHONES, ids=lambda phone: phone.e164)
def test_table_forms_one_phone_at_a_time(phone: Phone) -> None:
    assert_same((phone,), "\n".join(FORMS).encode())


def test_native_can_be_turned_off_and_no_phones_need_no_automaton() -> None:
    assert not Matcher(ALL_PHONES, native=False).native
    assert not Matcher(()).native
    assert Matcher(()).raw_matches(b"04 90 26 07 16") == []


def test_a_spec_with_a_cycle_is_refused() -> None:
    assert NATIVE is not None
    with pytest.raises(ValueError, match="later row"):
        NATIVE(((b"04", False, ((0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1),)),))


# ---- random pages ------------------------------------------------------------------


def any_case(text: str) -> st.SearchStrategy[bytes]:
    flips = st.lists(st.booleans(), min_size=len(text), max_size=len(text))
    return flips.map(
        lambda up: "".join(c.upper() if u else c for c, u in zip(text, up, strict=True)).encode()
    )


ENTITY_NAMES = (
    "nbsp", "#160", "#xa0", "#x0a0", "#x000a0", "#8239", "#x202f", "thinsp", "#8201", "#x2009",
    "#8203", "#x200b", "shy", "#173", "#xad", "ndash", "#8211", "#x2013", "#40", "#41", "#45",
    "#46", "#47", "#32",
)  # fmt: skip
NOT_ENTITY_NAMES = ("#x", "#x0", "#x0ad", "#43", "plus", "nbs", "#1600", "mdash", "")
PERCENTS = ("%20", "%28", "%29", "%2d", "%2e", "%2f", "%c2%a0")
NOT_PERCENTS = ("%2b", "%2", "%c2%a", "%c2", "%")
SIMPLE = (b" ", b".", b"-", b"/", b"(", b")", b"\t", b"\r", b"\n")
RAW = (
    b"\xc2\xa0",
    b"\xa0",
    b"\xe2\x80\xaf",
    b"\xe2\x80\x89",
    b"\xe2\x80\x8b",
    b"\xc2\xad",
    b"\xe2\x80\x93",
)
NOT_RAW = (b"\f", b"\xe2\x80\x94", b"\xc2", b"\xe2\x80", b"_", b",", b"&", b"<")
MARKUP = (
    b"<span>", b"</b>", b'<a href="tel:x">', b"<br/>", b"<!---->", b"<!-- x -->", b"<!-- -- -->",
)  # fmt: skip
NOT_MARKUP = (b"<!-->", b"<!--->", b"<!-- -- >", b"<1>", b"</", b"<!-", b"<!--", b"<a <b>", b"<a")
PLUSES = (b"+", b"&#43;", b"&#043;", b"&#x2B;", b"&plus;", b"%2B", b"\xef\xbc\x8b", b"00", b"+ ")


def sized_markup(size: int) -> st.SearchStrategy[bytes]:
    """Tags and comments around their length limits (256 and 64 bytes inside)."""
    return st.sampled_from(
        (
            b"<a" + b"x" * size + b">",
            b"</" + b"y" * size + b">",
            b"<!--" + b"-" * (size % 3) + b"z" * (size - 196) + b"-->",
        )
    )


def entity(names: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    return st.sampled_from(names).flatmap(any_case).map(lambda name: b"&" + name + b";")


VALID_SEPARATOR = st.one_of(
    st.sampled_from(SIMPLE),
    st.sampled_from(RAW),
    entity(ENTITY_NAMES),
    st.sampled_from(PERCENTS).flatmap(any_case),
    st.sampled_from(MARKUP),
)
SEPARATOR = st.one_of(
    VALID_SEPARATOR,
    VALID_SEPARATOR,
    VALID_SEPARATOR,
    st.sampled_from(NOT_RAW),
    entity(NOT_ENTITY_NAMES),
    st.sampled_from(ENTITY_NAMES).flatmap(any_case).map(lambda name: b"&" + name),
    st.sampled_from(NOT_PERCENTS).flatmap(any_case),
    st.sampled_from(NOT_MARKUP),
    st.integers(250, 260).flatmap(sized_markup),
)
SHORT_GAP = st.lists(VALID_SEPARATOR, min_size=1, max_size=2).map(b"".join)
GAP = st.one_of(SHORT_GAP, SHORT_GAP, SHORT_GAP, st.lists(SEPARATOR, max_size=5).map(b"".join))


def digit_strings(phone: Phone) -> list[str]:
    code = str(phone.country_code)
    strings = [*phone.national_digits, code + phone.national_number]
    if phone.trunk_prefix:
        strings.append(code + phone.trunk_prefix + phone.national_number)
    return strings


@st.composite
def written_number(draw: st.DrawFn, phones: tuple[Phone, ...]) -> bytes:
    """One of the phones' digit strings, maybe altered, in groups joined by gaps."""
    digits = list(draw(st.sampled_from([s for p in phones for s in digit_strings(p)])))
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(digits) - 1))
        action = draw(st.sampled_from(("change", "drop", "insert")))
        if action == "change":
            digits[at] = str(draw(st.integers(0, 9)))
        elif action == "drop":
            del digits[at]
        else:
            digits.insert(at, str(draw(st.integers(0, 9))))
    out = draw(st.sampled_from(PLUSES)) if draw(st.integers(0, 2)) == 0 else b""
    for i, digit in enumerate(digits):
        if i and draw(st.integers(0, 3)) == 0:
            out += draw(GAP)
        out += digit.encode()
    return out


NOISE = st.one_of(
    st.binary(max_size=3),
    st.text("0123456789 <>&;%#xXaA!-/+().", max_size=6).map(str.encode),
    st.sampled_from(PLUSES),
    SEPARATOR,
)


@st.composite
def page(draw: st.DrawFn) -> tuple[tuple[Phone, ...], bytes]:
    phones = tuple(draw(st.lists(st.sampled_from(ALL_PHONES), min_size=1, max_size=3)))
    numbers = draw(st.lists(written_number(phones), min_size=1, max_size=4))
    fillers = draw(st.lists(st.one_of(NOISE, GAP), min_size=len(numbers) + 1))
    pieces = [piece for pair in zip(fillers, numbers, strict=False) for piece in pair]
    return phones, b"".join(pieces) + b"".join(fillers[len(numbers) :])


@given(page())
@example(((ALL_PHONES[0],), b"04&#x000a0;90 26 07 16"))
@example(((ALL_PHONES[0],), b"04 90 26 07 16 7"))
@example(((ALL_PHONES[0],), b"+33 (0)4 90<!-- -->26 07 16"))
@example(((ALL_PHONES[5],), b"1-617-495-68901 617 495 6890"))
def test_random_pages(case: tuple[tuple[Phone, ...], bytes]) -> None:
    phones, body = case
    assert_same(phones, body)


# ---- the corpus ----------------------------------------------------------------------


@pytest.mark.skipif(not test_corpus.MANIFEST.is_file(), reason="no corpus")
def test_corpus_pages() -> None:
    for entry in test_corpus.manifest():
        phones = test_corpus.configured(entry) or ALL_PHONES[:3]
        assert_same(phones, test_corpus.body_of(entry))


# ---- adversarial input ---------------------------------------------------------------

MEGABYTE = 1 << 20


def megabyte_of(unit: bytes, tail: bytes = b"") -> bytes:
    return (unit * (MEGABYTE // len(unit) + 1))[: MEGABYTE - len(tail)] + tail


ADVERSARIAL = [
    pytest.param(megabyte_of(b"0"), id="digits"),
    pytest.param(megabyte_of(b"04 "), id="digits-and-spaces"),
    pytest.param(b"0 4 9 0 &#x" + megabyte_of(b"0", b"a0;2"), id="entity-zeros"),
    pytest.param(megabyte_of(b"0 &#x0000"), id="entity-zero-runs"),
    pytest.param(megabyte_of(b"0<a" + b"x" * 255), id="long-tags"),
    pytest.param(megabyte_of(b"0<!--" + b"-" * 63), id="long-comments"),
    pytest.param(megabyte_of(b"4 90&nbsp;26<b>07</b>16 "), id="number-parts"),
    pytest.param(megabyte_of(b"+33 (0)4 90 26 07 1"), id="almost-numbers"),
]


@pytest.mark.parametrize("body", ADVERSARIAL)
def test_adversarial_megabyte_finishes_like_the_regexes(body: bytes) -> None:
    assert_same(ALL_PHONES, body)
