"""A configured number is found in visible text however the page writes it, and only then.

Each row is a written form and the same form with the tracking number; same digit
counts, so the rewrite is digit for digit and every separator, entity and tag stays.
"""

from __future__ import annotations

import re

import pytest
from factories import ORIGINAL, TRACKING, html_page, rewrite, scan_html

NBSP = "\u00a0"
NNBSP = "\u202f"

FRENCH_NATIONAL = [
    pytest.param("0490260716", "0899123456", id="ungrouped"),
    pytest.param("04 90 26 07 16", "08 99 12 34 56", id="pairs-spaces"),
    pytest.param("04.90.26.07.16", "08.99.12.34.56", id="pairs-dots"),
    pytest.param("04-90-26-07-16", "08-99-12-34-56", id="pairs-hyphens"),
    pytest.param("04/90/26/07/16", "08/99/12/34/56", id="pairs-slashes"),
    pytest.param("04  90  26  07  16", "08  99  12  34  56", id="double-spaces"),
    pytest.param("04 - 90 - 26 - 07 - 16", "08 - 99 - 12 - 34 - 56", id="spaced-hyphens"),
    pytest.param("04.90 26-07 16", "08.99 12-34 56", id="mixed-separators"),
    pytest.param("049 026 0716", "089 912 3456", id="grouped-three-three-four"),
    pytest.param("04 9026 0716", "08 9912 3456", id="grouped-two-four-four"),
    pytest.param("(04) 90 26 07 16", "(08) 99 12 34 56", id="area-code-in-parens"),
    pytest.param(NBSP.join(ORIGINAL.split()), NBSP.join(TRACKING.split()), id="raw-nbsp"),
    pytest.param(NNBSP.join(ORIGINAL.split()), NNBSP.join(TRACKING.split()), id="raw-nnbsp"),
    pytest.param(
        "04&nbsp;90&nbsp;26&nbsp;07&nbsp;16", "08&nbsp;99&nbsp;12&nbsp;34&nbsp;56", id="entity-nbsp"
    ),
    pytest.param(
        "04&#160;90&#160;26&#160;07&#160;16",
        "08&#160;99&#160;12&#160;34&#160;56",
        id="entity-decimal-160",
    ),
    pytest.param(
        "04&#xA0;90&#xA0;26&#xA0;07&#xA0;16",
        "08&#xA0;99&#xA0;12&#xA0;34&#xA0;56",
        id="entity-hex-upper",
    ),
    pytest.param(
        "04&#xa0;90&#xa0;26&#xa0;07&#xa0;16",
        "08&#xa0;99&#xa0;12&#xa0;34&#xa0;56",
        id="entity-hex-lower",
    ),
    pytest.param(
        "04&#XA0;90&#Xa0;26&#xA0;07&#xa0;16",
        "08&#XA0;99&#Xa0;12&#xA0;34&#xa0;56",
        id="entity-hex-any-case",
    ),
    pytest.param(
        "04&#8239;90&#8239;26&#8239;07&#8239;16",
        "08&#8239;99&#8239;12&#8239;34&#8239;56",
        id="entity-narrow-nbsp",
    ),
    pytest.param("04&nbsp;90 26&#160;07.16", "08&nbsp;99 12&#160;34.56", id="entities-mixed"),
]

FRENCH_INTERNATIONAL = [
    pytest.param("+33 4 90 26 07 16", "+33 8 99 12 34 56", id="plus-spaces"),
    pytest.param("+33 (0)4 90 26 07 16", "+33 (0)8 99 12 34 56", id="plus-trunk-in-parens"),
    pytest.param("+33(0)490260716", "+33(0)899123456", id="plus-trunk-in-parens-compact"),
    pytest.param("0033 4 90 26 07 16", "0033 8 99 12 34 56", id="double-zero"),
    pytest.param("0033490260716", "0033899123456", id="double-zero-compact"),
    pytest.param("+33490260716", "+33899123456", id="e164"),
    pytest.param("(+33) 4 90 26 07 16", "(+33) 8 99 12 34 56", id="country-code-in-parens"),
    pytest.param("+ 33 4 90 26 07 16", "+ 33 8 99 12 34 56", id="space-after-plus"),
    pytest.param("&#43;33 4 90 26 07 16", "&#43;33 8 99 12 34 56", id="entity-plus"),
    pytest.param("+33 04 90 26 07 16", "+33 08 99 12 34 56", id="plus-trunk-kept"),
    pytest.param("+33 4.90.26.07.16", "+33 8.99.12.34.56", id="plus-dotted"),
    pytest.param(
        "+33&nbsp;4&nbsp;90&nbsp;26&nbsp;07&nbsp;16",
        "+33&nbsp;8&nbsp;99&nbsp;12&nbsp;34&nbsp;56",
        id="plus-entity-nbsp",
    ),
]


def sentence(number: str) -> str:
    return html_page(f"<p>Appelez le {number} !</p>")


def assert_found_and_rewritten(
    written: str, expected: str, original: str, tracking: str, region: str = "FR"
) -> None:
    html = sentence(written)
    page = scan_html(html, original, region=region)
    spans = [(o.where, page.body[o.start : o.end]) for o in page.occurrences]
    assert spans == [("text", written.encode())]
    assert rewrite(html, {original: tracking}, region=region) == sentence(expected).encode()


@pytest.mark.parametrize(("written", "expected"), FRENCH_NATIONAL + FRENCH_INTERNATIONAL)
def test_french_number(written: str, expected: str) -> None:
    assert_found_and_rewritten(written, expected, ORIGINAL, TRACKING)


US = [
    pytest.param("(617) 495-6890", "(617) 496-1234", id="parens-area-code"),
    pytest.param("(617)-495-6890", "(617)-496-1234", id="parens-area-code-hyphen"),
    pytest.param("617-495-6890", "617-496-1234", id="hyphens"),
    pytest.param("1-617-495-6890", "1-617-496-1234", id="trunk-one-hyphens"),
    pytest.param("1 (617) 495-6890", "1 (617) 496-1234", id="trunk-one-parens"),
    pytest.param("617.495.6890", "617.496.1234", id="dots"),
    pytest.param("617 495 6890", "617 496 1234", id="spaces"),
    pytest.param("6174956890", "6174961234", id="ungrouped"),
    pytest.param("+1 617-495-6890", "+1 617-496-1234", id="international"),
    pytest.param("+1 (617) 495-6890", "+1 (617) 496-1234", id="international-parens"),
    pytest.param("+16174956890", "+16174961234", id="e164"),
]


@pytest.mark.parametrize(("written", "expected"), US)
def test_us_number_configured_in_international_form(written: str, expected: str) -> None:
    assert_found_and_rewritten(written, expected, "+1 617 495 6890", "+1 617 496 1234")


GERMAN = [
    pytest.param("040 / 210 91 73 0", "040 / 210 91 79 9", id="slash-and-odd-groups"),
    pytest.param("040 21091730", "040 21091799", id="area-and-subscriber"),
    pytest.param("040-21091730", "040-21091799", id="hyphen"),
    pytest.param("(040) 21091730", "(040) 21091799", id="parens-area-code"),
    pytest.param("(040) 210 91 73 0", "(040) 210 91 79 9", id="parens-area-code-grouped"),
    pytest.param("+49 40 21091730", "+49 40 21091799", id="international"),
    pytest.param("+49 (0)40 21091730", "+49 (0)40 21091799", id="international-trunk"),
    pytest.param(
        "+49 (0) 40 / 210 91 73 0", "+49 (0) 40 / 210 91 79 9", id="international-trunk-slash"
    ),
    pytest.param("0049 40 21091730", "0049 40 21091799", id="double-zero"),
    pytest.param("&#43;49 (0) 40 / 210 91 73 0", "&#43;49 (0) 40 / 210 91 79 9", id="entity-plus"),
]


@pytest.mark.parametrize(("written", "expected"), GERMAN)
def test_german_number_found_in_its_own_national_forms(written: str, expected: str) -> None:
    assert_found_and_rewritten(written, expected, "+49 40 21091730", "+49 40 21091799")


OTHER_COUNTRIES = [
    pytest.param(
        "020 3637 4774", "020 3637 4799", "+44 20 3637 4774", "+44 20 3637 4799", id="uk-national"
    ),
    pytest.param(
        "+44 (0)20 3637 4774",
        "+44 (0)20 3637 4799",
        "+44 20 3637 4774",
        "+44 20 3637 4799",
        id="uk-international-trunk",
    ),
    pytest.param(
        "011 6706111",
        "011 6706199",
        "+39 011 6706111",
        "+39 011 6706199",
        id="italy-national-leading-zero",
    ),
    pytest.param(
        "+39 011 6706111",
        "+39 011 6706199",
        "+39 011 6706111",
        "+39 011 6706199",
        id="italy-international-keeps-zero",
    ),
    pytest.param(
        "8 777 941 33 23",
        "8 777 941 33 99",
        "+7 777 941 33 23",
        "+7 777 941 33 99",
        id="kazakhstan-trunk-eight",
    ),
    pytest.param(
        "+7 777 941 33 23",
        "+7 777 941 33 99",
        "+7 777 941 33 23",
        "+7 777 941 33 99",
        id="kazakhstan-international",
    ),
]


@pytest.mark.parametrize(("written", "expected", "original", "tracking"), OTHER_COUNTRIES)
def test_other_countries(written: str, expected: str, original: str, tracking: str) -> None:
    assert_found_and_rewritten(written, expected, original, tracking)


INLINE_TAGS = [
    "a",
    "abbr",
    "b",
    "bdi",
    "em",
    "font",
    "i",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "u",
]

SPLIT = [
    pytest.param("<span>04 90</span> 26 07 16", "<span>08 99</span> 12 34 56", id="span-head"),
    pytest.param("<b>04</b>.90.26.07.16", "<b>08</b>.99.12.34.56", id="bold-trunk-dotted"),
    pytest.param(
        '<a href="/contact"><span>04</span> 90 26 07 16</a>',
        '<a href="/contact"><span>08</span> 99 12 34 56</a>',
        id="link-and-span",
    ),
    pytest.param(
        "04 <em>90</em> 26 <i>07</i> 16", "08 <em>99</em> 12 <i>34</i> 56", id="several-tags"
    ),
    pytest.param(
        '+33 <span class="n">4 90 26 07 16</span>',
        '+33 <span class="n">8 99 12 34 56</span>',
        id="country-code-outside",
    ),
    pytest.param(
        '<font color="#040902">04 90</font> 26 07 16',
        '<font color="#040902">08 99</font> 12 34 56',
        id="digits-in-tag-attribute",
    ),
    pytest.param(
        "<strong>04</strong><strong>90</strong> 26 07 16",
        "<strong>08</strong><strong>99</strong> 12 34 56",
        id="adjacent-tags",
    ),
    pytest.param("<SPAN>04 90</SPAN> 26 07 16", "<SPAN>08 99</SPAN> 12 34 56", id="upper-case-tag"),
    *[
        pytest.param(
            f"<{tag}>04 90</{tag}> 26 07 16", f"<{tag}>08 99</{tag}> 12 34 56", id=f"inline-{tag}"
        )
        for tag in INLINE_TAGS
    ],
]


@pytest.mark.parametrize(("written", "expected"), SPLIT)
def test_number_split_across_inline_elements(written: str, expected: str) -> None:
    html = sentence(written)
    page = scan_html(html, ORIGINAL)
    [occurrence] = page.occurrences
    at = html.encode().index(written.encode())
    leading = len(written) - len(re.sub(r"^(?:<[^>]*>)*", "", written))
    trimmed = re.sub(r"(?:<[^>]*>)*$", "", written)
    assert occurrence.where == "text"
    assert (occurrence.start, occurrence.end) == (at + leading, at + len(trimmed))
    assert occurrence.text == re.sub(r"<[^>]*>", "", written)
    assert rewrite(html, {ORIGINAL: TRACKING}) == sentence(expected).encode()


SURROUNDINGS = [
    pytest.param("<p>Tél.04.90.26.07.16.</p>", "<p>Tél.08.99.12.34.56.</p>", id="sentence-period"),
    pytest.param("<p>Tel:0490260716</p>", "<p>Tel:0899123456</p>", id="label-colon"),
    pytest.param(
        "<p>Tél\u00a0: 04 90 26 07 16</p>", "<p>Tél\u00a0: 08 99 12 34 56</p>", id="french-label"
    ),
    pytest.param("<p>(04 90 26 07 16)</p>", "<p>(08 99 12 34 56)</p>", id="whole-number-in-parens"),
    pytest.param("<p>📞+33 4 90 26 07 16</p>", "<p>📞+33 8 99 12 34 56</p>", id="emoji-before"),
    pytest.param("<td>04 90 26 07 16</td>", "<td>08 99 12 34 56</td>", id="table-cell"),
    pytest.param(
        "<p>04 90 26 07 16 / 04 90 26 07 17</p>",
        "<p>08 99 12 34 56 / 04 90 26 07 17</p>",
        id="glued-to-another-number",
    ),
    pytest.param(
        "<p>04 90 26 07 16 / 04 90 26 07 16</p>",
        "<p>08 99 12 34 56 / 08 99 12 34 56</p>",
        id="glued-to-itself",
    ),
    pytest.param(
        "<p>04 90 26 07 16 | 0490260716</p>",
        "<p>08 99 12 34 56 | 0899123456</p>",
        id="two-forms-pipe",
    ),
    pytest.param(
        "<li>04 90 26 07 16</li><li>04 90 26 07 16</li>",
        "<li>08 99 12 34 56</li><li>08 99 12 34 56</li>",
        id="consecutive-elements",
    ),
]


@pytest.mark.parametrize(("body", "expected"), SURROUNDINGS)
def test_surroundings_stay_outside_the_number(body: str, expected: str) -> None:
    assert rewrite(html_page(body), {ORIGINAL: TRACKING}) == html_page(expected).encode()


def test_number_at_the_very_end_of_the_bytes() -> None:
    assert rewrite("Tél 04 90 26 07 16", {ORIGINAL: TRACKING}) == "Tél 08 99 12 34 56".encode()


NOT_THIS_NUMBER = [
    pytest.param("104 90 26 07 16", id="leading-digit"),
    pytest.param("20490260716", id="leading-digit-ungrouped"),
    pytest.param("0490260716123", id="trailing-digits"),
    pytest.param("04 90 26 07 167", id="trailing-digit-in-group"),
    pytest.param("Commande n°20490260716-3", id="order-id"),
    pytest.param("Prix : 4 902 607,16 €", id="price-with-same-digits"),
    pytest.param("490260716", id="bare-national-significant-number"),
    pytest.param("4 90 26 07 16", id="bare-national-significant-number-grouped"),
    pytest.param("04 90 26 07 17", id="different-last-digit"),
    pytest.param("05 90 26 07 16", id="different-first-digit"),
    pytest.param("04 90 26 07 1", id="truncated"),
    pytest.param("+34 4 90 26 07 16", id="other-country-code"),
    pytest.param("+1 490 260 716", id="other-country-same-digits"),
    pytest.param("<p>04 90</p><p>26 07 16</p>", id="split-across-paragraphs"),
    pytest.param("04 90<br>26 07 16", id="split-by-line-break"),
    pytest.param("<div>04 90</div> 26 07 16", id="split-by-block"),
]


@pytest.mark.parametrize("body", NOT_THIS_NUMBER)
def test_never_a_longer_digit_string_or_a_different_number(body: str) -> None:
    html = html_page(body)
    assert scan_html(html, ORIGINAL).occurrences == ()
    assert rewrite(html, {ORIGINAL: TRACKING}) == html.encode()


DECODED_TEXT = [
    pytest.param(
        "04&nbsp;90&nbsp;26&nbsp;07&nbsp;16",
        "04\u00a090\u00a026\u00a007\u00a016",
        id="entities-decoded",
    ),
    pytest.param("&#43;33 4 90 26 07 16", "+33 4 90 26 07 16", id="entity-plus-decoded"),
    pytest.param("<span>04 90</span> 26 07 16", "04 90 26 07 16", id="tags-dropped"),
    pytest.param("04.90.26.07.16", "04.90.26.07.16", id="as-written"),
]


@pytest.mark.parametrize(("written", "text"), DECODED_TEXT)
def test_occurrence_text_is_the_decoded_written_form(written: str, text: str) -> None:
    [occurrence] = scan_html(sentence(written), ORIGINAL).occurrences
    assert occurrence.text == text


def test_direct_line_after_a_hyphen_is_another_number() -> None:
    # phonenumbers reads "040 21091730-12" as +49402109173012, a German direct line.
    html = html_page("<p>Durchwahl: 040 21091730-12</p>")
    assert rewrite(html, {"+49 40 21091730": "+49 40 21091799"}) == html.encode()
