"""Page: the numbers found, and the page rendered with tracking numbers like the originals."""

from __future__ import annotations

import pytest
from factories import (
    ORIGINAL,
    TRACKING,
    assignments,
    html_page,
    phone,
    rewrite,
    scan_html,
)

from rules import Tracking

AVIGNON = "+33490260716"
NIMES = "+33466212121"

TWO_PHONES = html_page(
    '<header><a href="tel:+33490260716">04 90 26 07 16</a></header>'
    "<p>Agence de Nîmes : 04.66.21.21.21</p>"
    "<p>Avignon : +33 (0)4 90 26 07 16, Nîmes : 04 66 21 21 21</p>"
    '<footer><a href="tel:0466212121">Nîmes</a></footer>'
)


def test_page_reports_occurrences_in_document_order() -> None:
    page = scan_html(TWO_PHONES, ORIGINAL, "04 66 21 21 21")
    assert page.body == TWO_PHONES.encode()
    assert [(o.phone.e164, o.where, o.text) for o in page.occurrences] == [
        (AVIGNON, "tel", "+33490260716"),
        (AVIGNON, "text", "04 90 26 07 16"),
        (NIMES, "text", "04.66.21.21.21"),
        (AVIGNON, "text", "+33 (0)4 90 26 07 16"),
        (NIMES, "text", "04 66 21 21 21"),
        (NIMES, "tel", "0466212121"),
    ]
    starts = [o.start for o in page.occurrences]
    assert starts == sorted(starts)
    assert all(
        a.end <= b.start for a, b in zip(page.occurrences, page.occurrences[1:], strict=False)
    )


def test_page_summaries() -> None:
    page = scan_html(TWO_PHONES, ORIGINAL, "04 66 21 21 21")
    assert [p.e164 for p in page.phones] == [AVIGNON, NIMES]
    assert page.counts() == {
        AVIGNON: {"text": 2, "tel": 1},
        NIMES: {"text": 2, "tel": 1},
    }
    assert page.sample(AVIGNON) == "04 90 26 07 16"
    assert page.sample(NIMES) == "04.66.21.21.21"


def test_sample_is_none_without_a_text_occurrence() -> None:
    page = scan_html(html_page('<a href="tel:+33490260716">Appeler</a>'), ORIGINAL, "0466212121")
    assert page.sample(AVIGNON) is None
    assert page.sample(NIMES) is None
    assert page.counts()[AVIGNON] == {"text": 0, "tel": 1}
    assert page.counts().get(NIMES, {"text": 0, "tel": 0}) == {"text": 0, "tel": 0}


def test_empty_assignment_returns_the_body_unchanged() -> None:
    page = scan_html(TWO_PHONES, ORIGINAL, "04 66 21 21 21")
    assert page.render({}) == TWO_PHONES.encode()


def test_identity_assignment_returns_the_same_bytes() -> None:
    page = scan_html(TWO_PHONES, ORIGINAL, "04 66 21 21 21")
    identity = {p.e164: Tracking(p.e164) for p in page.phones}
    assert page.render(identity) == TWO_PHONES.encode()


def test_unassigned_phones_keep_their_number() -> None:
    out = rewrite(TWO_PHONES, {ORIGINAL: TRACKING})
    page = scan_html(TWO_PHONES, ORIGINAL, "04 66 21 21 21")
    assert page.render(assignments({ORIGINAL: TRACKING})) == out
    expected = (
        TWO_PHONES.replace("tel:+33490260716", "tel:+33899123456")
        .replace("04 90 26 07 16", "08 99 12 34 56")
        .replace("(0)4 90 26 07 16", "(0)8 99 12 34 56")
    )
    assert out == expected.encode()


def test_render_is_repeatable() -> None:
    page = scan_html(TWO_PHONES, ORIGINAL, "04 66 21 21 21")
    mapping = assignments({ORIGINAL: TRACKING, "04 66 21 21 21": "08 99 65 43 21"})
    assert page.render(mapping) == page.render(mapping)


def test_numbers_sharing_digits_are_told_apart() -> None:
    html = html_page("<p>04 90 26 07 16 et 04 90 26 07 17</p>")
    out = rewrite(html, {ORIGINAL: TRACKING, "04 90 26 07 17": "08 99 65 43 21"})
    assert out == html_page("<p>08 99 12 34 56 et 08 99 65 43 21</p>").encode()


# A foreign tracking number has no national form a visitor of the page's country can
# dial, so national occurrences get its international form; the page's separator stays.
FOREIGN_TRACKING = [
    pytest.param("04 90 26 07 16", "+44 20 3637 4774", id="national-spaces"),
    pytest.param("04.90.26.07.16", "+44.20.3637.4774", id="national-dots"),
    pytest.param("0490260716", "+442036374774", id="national-ungrouped"),
    pytest.param(
        "04&nbsp;90&nbsp;26&nbsp;07&nbsp;16", "+44&nbsp;20&nbsp;3637&nbsp;4774", id="entities"
    ),
    pytest.param("+33 4 90 26 07 16", "+44 20 3637 4774", id="international-spaces"),
    pytest.param("+33490260716", "+442036374774", id="international-compact"),
    pytest.param("0033 4 90 26 07 16", "0044 20 3637 4774", id="international-double-zero"),
    pytest.param('<a href="tel:+33490260716">x</a>', '<a href="tel:+442036374774">x</a>', id="tel"),
    pytest.param(
        '<a href="tel:0490260716">x</a>', '<a href="tel:+442036374774">x</a>', id="tel-national"
    ),
]


@pytest.mark.parametrize(("written", "expected"), FOREIGN_TRACKING)
def test_foreign_tracking_number_is_grouped_like_phonenumbers_with_the_page_separator(
    written: str, expected: str
) -> None:
    out = rewrite(html_page(f"<p>{written}</p>"), {ORIGINAL: "+44 20 3637 4774"})
    assert out == html_page(f"<p>{expected}</p>").encode()


SHORTER_GERMAN = [
    pytest.param("040 21091730", "030 123456", id="national"),
    pytest.param("040-210-917-30", "030-123456", id="national-hyphens"),
    pytest.param("040 / 210 91 73 0", "030 / 123456", id="national-slash"),
    pytest.param("+49 40 21091730", "+49 30 123456", id="international"),
    pytest.param("(040) 210 91 73 0", "(030) 123456", id="parens-area-code-stay-balanced"),
]


@pytest.mark.parametrize(("written", "expected"), SHORTER_GERMAN)
def test_shorter_tracking_number_of_the_same_country(written: str, expected: str) -> None:
    out = rewrite(html_page(f"<p>{written}</p>"), {"+49 40 21091730": "+49 30 123456"})
    assert out == html_page(f"<p>{expected}</p>").encode()


CODES = [
    pytest.param("04 90 26 07 16", None, "08 99 12 34 56 (code 1234)", id="default-template"),
    pytest.param("04 90 26 07 16", " #{code}", "08 99 12 34 56 #1234", id="custom-template"),
    pytest.param(
        "<b>04</b> 90 26 07 16",
        None,
        "<b>08</b> 99 12 34 56 (code 1234)",
        id="after-the-last-digit-of-a-split-number",
    ),
    pytest.param("04 90 26 07 16.", None, "08 99 12 34 56 (code 1234).", id="before-punctuation"),
]


@pytest.mark.parametrize(("written", "template", "expected"), CODES)
def test_provider_code_follows_the_number_in_text(
    written: str, template: str | None, expected: str
) -> None:
    out = rewrite(
        html_page(f"<p>{written}</p>"),
        {ORIGINAL: TRACKING},
        codes={ORIGINAL: "1234"},
        code_template=template,
    )
    assert out == html_page(f"<p>{expected}</p>").encode()


def test_no_code_no_suffix() -> None:
    page = scan_html(html_page("<p>04 90 26 07 16</p>"), ORIGINAL)
    out = page.render({AVIGNON: Tracking(phone(TRACKING).e164, None)}, code_template=" #{code}")
    assert out == html_page("<p>08 99 12 34 56</p>").encode()


def test_assignment_for_a_phone_not_on_the_page_changes_nothing() -> None:
    html = html_page("<p>04 66 21 21 21</p>")
    assert rewrite(html, {ORIGINAL: TRACKING}) == html.encode()
