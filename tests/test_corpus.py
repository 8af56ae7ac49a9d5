"""The real pages of ../shared/corpus: every listed visible number replaced, every other byte kept.

For each page the phones its manifest lists are configured and given made-up
tracking numbers of the same shape (same country, same digit count, only the last
two digits changed), so each replacement is digit for digit and the expected page
is the original with the last two digits of every listed span swapped. Numbers the
manifest puts in `title` or `textarea`, and every `phones_elsewhere` entry (JSON-LD,
comments, attributes), must stay. selectolax's text nodes of input and output are
compared too: they may differ only in digits, and never inside script or style.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import phonenumbers
import pytest
from factories import text_nodes

from rules import Matcher, Page, Phone, PhoneError, Tracking, parse_phone, scan

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
MANIFEST = CORPUS / "manifest.json"

pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"no corpus at {CORPUS}")

# Pages whose only numbers are tel: hrefs, so no listed text number gives their country.
TEL_ONLY_REGIONS = {"pages/022.html": "US", "pages/024.html": "US"}
LANG_REGIONS = {"fr": "FR", "de": "DE", "en": "US", "nl": "NL", "it": "IT", "ja": "JP"}
STAYS = frozenset({"title", "textarea"})
# In a written number, these are one unit each: a tag, an entity, a %XX escape.
UNITS = re.compile(rb"<[^>]*>|&#?[0-9A-Za-z]+;|%[0-9A-Fa-f]{2}|.", re.DOTALL)
# Visible numbers the manifest does not list, checked against the page's bytes. 012's
# top bar writes the number in a <span> glued to the next <span>'s e-mail address, so
# the manifest's text extraction read "01 43 31 80 49news@..." and skipped it.
UNLISTED_VISIBLE: dict[str, tuple[Entry, ...]] = {
    "pages/012.html": (
        {
            "where": "text",
            "source": "01 43 31 80 49",
            "e164": "+33143318049",
            "byte_offset": 34935,
            "byte_length": 14,
        },
    ),
}

Entry = dict[str, Any]


@cache
def manifest() -> tuple[Entry, ...]:
    if not MANIFEST.is_file():
        return ()
    return tuple(json.loads(MANIFEST.read_text(encoding="utf-8")))


def entry_ids(entries: tuple[Entry, ...]) -> list[str]:
    return [Path(entry["file"]).stem for entry in entries]


def with_numbers() -> tuple[Entry, ...]:
    return tuple(e for e in manifest() if e["phones_detail"] or e["phones_elsewhere"])


def negative_controls() -> tuple[Entry, ...]:
    return tuple(e for e in manifest() if not e["phones_detail"] and not e["phones_elsewhere"])


def body_of(entry: Entry) -> bytes:
    return (CORPUS / str(entry["file"])).read_bytes()


def region_of(entry: Entry) -> str:
    for detail in entry["phones_detail"]:
        if detail.get("e164"):
            number = phonenumbers.parse(detail["e164"])
            return phonenumbers.region_code_for_number(number) or "FR"
    if entry["file"] in TEL_ONLY_REGIONS:
        return TEL_ONLY_REGIONS[entry["file"]]
    return LANG_REGIONS.get((entry["lang"] or "fr")[:2].lower(), "FR")


def href_number(href: str) -> str:
    """The number a tel: href dials: scheme dropped, entities and %XX decoded."""
    return unquote(html.unescape(href.split(":", 1)[1])).strip()


def listed_phone(detail: Entry, region: str) -> Phone:
    if detail["where"] == "tel-href":
        return parse_phone(href_number(detail["href"]), region)
    return parse_phone(detail["e164"])


def elsewhere_phones(entry: Entry, region: str) -> Iterator[Phone]:
    for item in entry["phones_elsewhere"]:
        try:
            yield parse_phone(item["text"], region)
        except PhoneError:
            continue  # a number libphonenumber rejects cannot be configured


def configured(entry: Entry) -> tuple[Phone, ...]:
    region = region_of(entry)
    phones = [listed_phone(detail, region) for detail in entry["phones_detail"]]
    phones.extend(elsewhere_phones(entry, region))
    return tuple(dict.fromkeys(phones))


def made_up(phone: Phone, taken: set[str]) -> str:
    """A valid number of the same country and length: the last two digits changed."""
    nsn = phone.national_number
    for step in range(1, 100):
        tail = f"{(int(nsn[-2:]) + 37 * step) % 100:02d}"
        e164 = f"+{phone.country_code}{nsn[:-2]}{tail}"
        if e164 not in taken and phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            return e164
    raise AssertionError(f"no made-up tracking number for {phone.e164}")


def tracking_for(phones: tuple[Phone, ...]) -> dict[str, Tracking]:
    taken = {p.e164 for p in phones}
    result = {}
    for phone in phones:
        result[phone.e164] = Tracking(made_up(phone, taken))
        taken.add(result[phone.e164].e164)
    return result


def swap_last_two_digits(written: bytes, tail: str) -> bytes:
    units = [m[0] for m in UNITS.finditer(written)]
    digits = [i for i, unit in enumerate(units) if len(unit) == 1 and unit.isdigit()]
    for index, digit in zip(digits[-2:], tail, strict=True):
        units[index] = digit.encode()
    return b"".join(units)


def expected_output(entry: Entry, body: bytes, assignments: dict[str, Tracking]) -> bytes:
    """The original with the last two digits of every listed visible span swapped."""
    region = region_of(entry)
    pieces, pos = [], 0
    for detail in replaced(entry):
        start = detail["byte_offset"]
        end = start + detail["byte_length"]
        tail = assignments[listed_phone(detail, region).e164].e164[-2:]
        pieces += [body[pos:start], swap_last_two_digits(body[start:end], tail)]
        pos = end
    return b"".join([*pieces, body[pos:]])


def replaced(entry: Entry) -> list[Entry]:
    details = [*entry["phones_detail"], *UNLISTED_VISIBLE.get(entry["file"], ())]
    details.sort(key=lambda detail: detail["byte_offset"])
    return [d for d in details if d.get("element") not in STAYS]


def mismatch(entry: Entry, page: Page, out: bytes, expected: bytes) -> str:
    listed = {d["byte_offset"] + d["byte_length"] for d in replaced(entry)}
    found = {o.end for o in page.occurrences}
    missing = sorted(listed - found)
    extra = [(o.end, o.where, o.text) for o in page.occurrences if o.end not in listed]
    first = next((i for i, (a, b) in enumerate(zip(out, expected, strict=False)) if a != b), None)
    context = expected[max(0, (first or 0) - 60) : (first or 0) + 60]
    return f"missing ends {missing}; unlisted {extra}; first diff at {first}: {context!r}"


def assert_dom_differs_only_in_digits(before: bytes, after: bytes, charset: str) -> None:
    old, new = text_nodes(before, charset), text_nodes(after, charset)
    assert len(old) == len(new)
    for (hidden, a), (_, b) in zip(old, new, strict=True):
        if hidden:
            assert a == b
        else:
            assert re.sub(r"\d", "#", a) == re.sub(r"\d", "#", b), (a, b)


def test_corpus_is_intact() -> None:
    assert len(manifest()) == 80
    for entry in manifest():
        assert hashlib.sha256(body_of(entry)).hexdigest() == entry["sha256"], entry["file"]


@pytest.mark.parametrize("file", sorted(UNLISTED_VISIBLE))
def test_unlisted_numbers_are_where_this_file_says(file: str) -> None:
    body = (CORPUS / file).read_bytes()
    for detail in UNLISTED_VISIBLE[file]:
        start = detail["byte_offset"]
        assert body[start : start + detail["byte_length"]] == detail["source"].encode()


@pytest.mark.parametrize("entry", with_numbers(), ids=entry_ids(with_numbers()))
def test_listed_numbers_are_replaced_and_nothing_else(entry: Entry) -> None:
    body = body_of(entry)
    phones = configured(entry)
    page = scan(body, Matcher(phones))
    assignments = tracking_for(phones)
    out = page.render(assignments)
    expected = expected_output(entry, body, assignments)
    assert out == expected, mismatch(entry, page, out, expected)
    assert_dom_differs_only_in_digits(body, out, page.charset)


@pytest.mark.parametrize("entry", with_numbers(), ids=entry_ids(with_numbers()))
def test_identity_assignment_returns_the_page_byte_for_byte(entry: Entry) -> None:
    body = body_of(entry)
    page = scan(body, Matcher(configured(entry)))
    assert page.render({}) == body
    assert page.render({p.e164: Tracking(p.e164) for p in page.phones}) == body


@cache
def every_corpus_phone() -> tuple[Phone, ...]:
    return tuple(dict.fromkeys(p for entry in with_numbers() for p in configured(entry)))


@pytest.mark.parametrize("entry", negative_controls(), ids=entry_ids(negative_controls()))
def test_negative_control_comes_back_identical(entry: Entry) -> None:
    body = body_of(entry)
    page = scan(body, Matcher(every_corpus_phone()))
    assert page.occurrences == ()
    out = page.render(tracking_for(every_corpus_phone()))
    assert hashlib.sha256(out).hexdigest() == entry["sha256"]
