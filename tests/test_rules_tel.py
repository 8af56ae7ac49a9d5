"""tel: and callto: hrefs carry the number in any written form, and only they among attributes."""

from __future__ import annotations

import pytest
from factories import ORIGINAL, TRACKING, html_page, rewrite, scan_html

HREFS = [
    pytest.param('href="tel:+33490260716"', 'href="tel:+33899123456"', id="e164"),
    pytest.param('href="tel:0490260716"', 'href="tel:0899123456"', id="national"),
    pytest.param('href="tel:04 90 26 07 16"', 'href="tel:08 99 12 34 56"', id="national-spaces"),
    pytest.param('href="tel:04.90.26.07.16"', 'href="tel:08.99.12.34.56"', id="national-dots"),
    pytest.param('href="tel:04-90-26-07-16"', 'href="tel:08-99-12-34-56"', id="national-hyphens"),
    pytest.param('href="tel:+33 4 90 26 07 16"', 'href="tel:+33 8 99 12 34 56"', id="intl-spaces"),
    pytest.param('href="tel:+33-4-90-26-07-16"', 'href="tel:+33-8-99-12-34-56"', id="intl-hyphens"),
    pytest.param('href="tel:0033490260716"', 'href="tel:0033899123456"', id="double-zero"),
    pytest.param('href="tel:+33(0)490260716"', 'href="tel:+33(0)899123456"', id="trunk-in-parens"),
    pytest.param('href="tel:%2B33490260716"', 'href="tel:%2B33899123456"', id="percent-plus"),
    pytest.param(
        'href="tel:%2B33%204%2090%2026%2007%2016"',
        'href="tel:%2B33%208%2099%2012%2034%2056"',
        id="percent-encoded",
    ),
    pytest.param('href="tel:&#43;33490260716"', 'href="tel:&#43;33899123456"', id="entity-plus"),
    pytest.param('href="tel: +33490260716"', 'href="tel: +33899123456"', id="space-after-scheme"),
    pytest.param('href="callto:+33490260716"', 'href="callto:+33899123456"', id="callto"),
    pytest.param('href="TEL:+33490260716"', 'href="TEL:+33899123456"', id="scheme-upper-case"),
    pytest.param("href='tel:+33490260716'", "href='tel:+33899123456'", id="single-quotes"),
    pytest.param("href=tel:+33490260716", "href=tel:+33899123456", id="unquoted"),
    pytest.param('HREF="tel:+33490260716"', 'HREF="tel:+33899123456"', id="attribute-upper-case"),
    pytest.param(
        'href = "tel:+33490260716"', 'href = "tel:+33899123456"', id="spaces-around-equals"
    ),
    pytest.param(
        'class="btn" data-n="3" href="tel:+33490260716"',
        'class="btn" data-n="3" href="tel:+33899123456"',
        id="after-other-attributes",
    ),
    pytest.param(
        'href="tel:+33490260716" data-phone="0490260716"',
        'href="tel:+33899123456" data-phone="0490260716"',
        id="data-attribute-next-to-it-stays",
    ),
]


def link(attributes: str, text: str = "Appeler") -> str:
    return html_page(f"<p><a {attributes}>{text}</a></p>")


@pytest.mark.parametrize(("attributes", "expected"), HREFS)
def test_tel_href_is_rewritten_in_its_own_form(attributes: str, expected: str) -> None:
    html = link(attributes)
    page = scan_html(html, ORIGINAL)
    assert [o.where for o in page.occurrences] == ["tel"]
    assert rewrite(html, {ORIGINAL: TRACKING}) == link(expected).encode()


SPANS = [
    pytest.param('href="tel:+33490260716"', "+33490260716", id="e164"),
    pytest.param('href="callto:0490260716"', "0490260716", id="callto"),
    pytest.param('href="tel:04 90 26 07 16"', "04 90 26 07 16", id="spaces"),
    pytest.param(
        'href="tel:%2B33%204%2090%2026%2007%2016"',
        "%2B33%204%2090%2026%2007%2016",
        id="percent-encoded",
    ),
]


@pytest.mark.parametrize(("attributes", "number"), SPANS)
def test_tel_span_is_the_number_inside_the_href_without_the_scheme(
    attributes: str, number: str
) -> None:
    page = scan_html(link(attributes), ORIGINAL)
    [occurrence] = page.occurrences
    assert page.body[occurrence.start : occurrence.end] == number.encode()


NOT_A_TEL_HREF = [
    pytest.param('href="/appel/0490260716"', id="plain-path"),
    pytest.param('href="https://wa.me/33490260716"', id="whatsapp"),
    pytest.param('href="sms:0490260716"', id="sms"),
    pytest.param('href="mailto:0490260716@example.com"', id="mailto"),
    pytest.param('href="https://example.com/?to=tel:0490260716"', id="tel-inside-query"),
    pytest.param('href="#" data-href="tel:0490260716"', id="data-href"),
    pytest.param('href="#" title="tel:0490260716"', id="title"),
    pytest.param(
        """href="#" data-content='<a href="tel:0490260716">x</a>'""",
        id="link-markup-inside-another-attribute",
    ),
    pytest.param('href="tel:+33490260717"', id="different-number"),
    pytest.param('href="tel:+334902607160"', id="longer-number"),
    pytest.param('href="tel:104 90 26 07 16"', id="leading-digit"),
]


@pytest.mark.parametrize("attributes", NOT_A_TEL_HREF)
def test_other_hrefs_and_attributes_stay(attributes: str) -> None:
    html = link(attributes)
    assert scan_html(html, ORIGINAL).occurrences == ()
    assert rewrite(html, {ORIGINAL: TRACKING}) == html.encode()


def test_link_text_and_href_are_both_rewritten_href_first() -> None:
    html = link('href="tel:+33490260716"', "04 90 26 07 16")
    page = scan_html(html, ORIGINAL)
    assert [o.where for o in page.occurrences] == ["tel", "text"]
    assert page.counts() == {"+33490260716": {"text": 1, "tel": 1}}
    expected = link('href="tel:+33899123456"', "08 99 12 34 56")
    assert rewrite(html, {ORIGINAL: TRACKING}) == expected.encode()


def test_href_and_text_in_different_forms_are_rewritten_consistently() -> None:
    html = link('href="tel:0490260716"', "+33 (0)4 90 26 07 16")
    expected = link('href="tel:0899123456"', "+33 (0)8 99 12 34 56")
    assert rewrite(html, {ORIGINAL: TRACKING}) == expected.encode()


def test_link_without_digits_in_its_text_is_still_rewritten() -> None:
    html = link('href="tel:+33490260716"', '<img src="/phone.png" alt="Appelez-nous">')
    expected = link('href="tel:+33899123456"', '<img src="/phone.png" alt="Appelez-nous">')
    assert rewrite(html, {ORIGINAL: TRACKING}) == expected.encode()


CODES = [
    pytest.param('href="tel:+33490260716"', 'href="tel:+33899123456,1234"', id="e164"),
    pytest.param('href="tel:0490260716"', 'href="tel:0899123456,1234"', id="national"),
    pytest.param(
        'href="tel:%2B33%204%2090%2026%2007%2016"',
        'href="tel:%2B33%208%2099%2012%2034%2056,1234"',
        id="percent-encoded",
    ),
]


@pytest.mark.parametrize(("attributes", "expected"), CODES)
def test_provider_code_is_dialled_after_a_pause(attributes: str, expected: str) -> None:
    out = rewrite(link(attributes), {ORIGINAL: TRACKING}, codes={ORIGINAL: "1234"})
    assert out == link(expected).encode()


def test_code_template_applies_to_text_not_to_the_href() -> None:
    html = link('href="tel:+33490260716"', "04 90 26 07 16")
    out = rewrite(html, {ORIGINAL: TRACKING}, codes={ORIGINAL: "1234"})
    expected = link('href="tel:+33899123456,1234"', "08 99 12 34 56 (code 1234)")
    assert out == expected.encode()
