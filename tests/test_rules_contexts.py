"""Numbers are rewritten in visible text and tel: hrefs only, as an HTML5 tokenizer sees the page.

Every row is also checked against selectolax's DOM, so the table cannot claim a
number is visible (or hidden) when a browser's parser disagrees.
"""

from __future__ import annotations

import re

import pytest
from factories import ORIGINAL, TRACKING, html_page, rewrite, scan_html, visible_text_nodes

DIGITS = "0490260716"
NUMBER = re.compile(r"04 90 26 07 16|0490260716")

HIDDEN = [
    pytest.param('<script>var tel = "04 90 26 07 16";</script>', id="script"),
    pytest.param(
        '<script type="application/ld+json">{"telephone": "04 90 26 07 16"}</script>',
        id="json-ld",
    ),
    pytest.param('<script type="text/template"><p>04 90 26 07 16</p></script>', id="js-template"),
    pytest.param('<SCRIPT>var tel = "04 90 26 07 16";</SCRIPT>', id="script-upper-case"),
    pytest.param('<script>if (a > b) tel = "04 90 26 07 16";</script>', id="script-with-gt"),
    pytest.param(
        '<script><!--<script>var a = "x";</script>04 90 26 07 16--></script>',
        id="script-double-escaped",
    ),
    pytest.param("<style>/* 04 90 26 07 16 */ p { margin: 0 }</style>", id="style-comment"),
    pytest.param('<style>.tel::after { content: "04 90 26 07 16"; }</style>', id="style-content"),
    pytest.param("<textarea>04 90 26 07 16</textarea>", id="textarea"),
    pytest.param("<textarea><b>04 90 26 07 16</b></textarea>", id="textarea-tags-are-text"),
    pytest.param("<!-- 04 90 26 07 16 -->", id="comment"),
    pytest.param("<!--\nTél :\n04 90 26 07 16\n-->", id="comment-multiline"),
    pytest.param("<!-- a -- 04 90 26 07 16 -->", id="comment-with-double-hyphen"),
    pytest.param("<!--[if IE]><p>04 90 26 07 16</p><![endif]-->", id="conditional-comment"),
    pytest.param("<? 04 90 26 07 16 >", id="bogus-comment-question-mark"),
    pytest.param('<?php echo "04 90 26 07 16" ?>', id="bogus-comment-php"),
    pytest.param("<! 04 90 26 07 16 >", id="bogus-comment-bang"),
    pytest.param("</ 04 90 26 07 16>", id="bogus-comment-end-tag"),
    pytest.param("<![CDATA[ 04 90 26 07 16 ]]>", id="cdata-is-a-bogus-comment-in-html"),
    pytest.param('<img src="/a.png" alt="04 90 26 07 16">', id="alt"),
    pytest.param('<span title="04 90 26 07 16">Tél</span>', id="title-attribute"),
    pytest.param('<input type="tel" value="0490260716">', id="value"),
    pytest.param('<input placeholder="04 90 26 07 16">', id="placeholder"),
    pytest.param('<div data-phone="04 90 26 07 16"></div>', id="data-attribute"),
    pytest.param('<button aria-label="Appeler le 04 90 26 07 16">☎</button>', id="aria-label"),
    pytest.param('<a href="/rappel?numero=0490260716">Rappel</a>', id="plain-href"),
    pytest.param("<img alt='04 90 26 07 16'>", id="single-quoted-attribute"),
    pytest.param("<img alt=0490260716>", id="unquoted-attribute"),
    pytest.param('<div title="a > 04 90 26 07 16">x</div>', id="gt-inside-double-quotes"),
    pytest.param("<div title='a > 04 90 26 07 16'>x</div>", id="gt-inside-single-quotes"),
    pytest.param('<div title="<b>04 90 26 07 16</b>">x</div>', id="markup-inside-attribute"),
    pytest.param(
        '<div data-content="<ul><li><b>Tél</b> : <i>04 90 26 07 16</i></li></ul>">i</div>',
        id="html-popover-inside-attribute",
    ),
]

VISIBLE = [
    pytest.param("<noscript>Tél : 04 90 26 07 16</noscript>", id="noscript"),
    pytest.param("<!-->04 90 26 07 16", id="after-abruptly-closed-empty-comment"),
    pytest.param("<!--->04 90 26 07 16", id="after-abruptly-closed-comment-with-hyphen"),
    pytest.param("<!-- x --!>04 90 26 07 16", id="after-comment-closed-by-bang"),
    pytest.param(
        '<script>var s = "</script><p>04 90 26 07 16</p>";</script>',
        id="script-ended-by-end-tag-inside-a-string",
    ),
    pytest.param("<script><!-- var a;</script>04 90 26 07 16", id="after-escaped-script"),
    pytest.param(
        "<script>var q = \"<img alt='\";</script>\nTél : 04 90 26 07 16\n<p class='n'>x</p>",
        id="after-script-with-an-unbalanced-quote-in-a-string",
    ),
    pytest.param("<script>x</script >04 90 26 07 16", id="after-script-end-tag-with-space"),
    pytest.param("<style>p{}</STYLE>04 90 26 07 16", id="after-style-upper-case-end"),
    pytest.param("<textarea>x</textarea>04 90 26 07 16", id="after-textarea"),
    pytest.param("<!-- x -->04 90 26 07 16", id="after-comment"),
    pytest.param('<div title="x>y">04 90 26 07 16</div>', id="after-gt-in-quoted-attribute"),
    pytest.param('<p data-x="<script>">04 90 26 07 16</p>', id="script-tag-inside-attribute"),
    pytest.param("<p title='</script>'>04 90 26 07 16</p>", id="end-tag-inside-attribute"),
    pytest.param('<p title="<!--">04 90 26 07 16</p><p>--></p>', id="comment-open-in-attribute"),
    pytest.param(
        "<p title='a<b>c<!--'>a</p><p>04 90 26 07 16</p>",
        id="comment-open-in-attribute-after-markup",
    ),
    pytest.param('<img src="a.png"/>04 90 26 07 16', id="after-self-closing-tag"),
    pytest.param("<svg><text>04 90 26 07 16</text></svg>", id="svg-text"),
]


def numbers_in_visible_text(html: str) -> int:
    nodes = visible_text_nodes(html.encode())
    return sum(re.sub(r"\D", "", node).count(DIGITS) for node in nodes)


@pytest.mark.parametrize("body", HIDDEN)
def test_never_rewritten_outside_visible_text_and_tel_hrefs(body: str) -> None:
    html = html_page(body)
    assert numbers_in_visible_text(html) == 0, "the table disagrees with the DOM"
    assert scan_html(html, ORIGINAL).occurrences == ()
    assert rewrite(html, {ORIGINAL: TRACKING}) == html.encode()


@pytest.mark.parametrize("body", VISIBLE)
def test_rewritten_where_html5_tokenization_makes_it_text(body: str) -> None:
    html = html_page(body)
    assert numbers_in_visible_text(html) == 1, "the table disagrees with the DOM"
    expected = NUMBER.sub(lambda m: TRACKING if " " in m[0] else "0899123456", html)
    assert rewrite(html, {ORIGINAL: TRACKING}) == expected.encode()


def test_title_is_never_rewritten() -> None:
    html = html_page("<p>04 90 26 07 16</p>", title="Plomberie Durand 04 90 26 07 16")
    expected = html_page("<p>08 99 12 34 56</p>", title="Plomberie Durand 04 90 26 07 16")
    assert rewrite(html, {ORIGINAL: TRACKING}) == expected.encode()


def test_meta_content_is_never_rewritten() -> None:
    head = '<meta name="description" content="Plombier à Avignon, 04 90 26 07 16">'
    html = html_page("<p>Bienvenue</p>", head=head)
    assert rewrite(html, {ORIGINAL: TRACKING}) == html.encode()


TEL_LINK = '<a href="tel:+33490260716">04 90 26 07 16</a>'
TEL_LINK_REWRITTEN = '<a href="tel:+33899123456">08 99 12 34 56</a>'

SELECTORS = [
    pytest.param(
        f"<main>{TEL_LINK}</main><footer>{TEL_LINK}</footer>",
        f"<main>{TEL_LINK_REWRITTEN}</main><footer>{TEL_LINK}</footer>",
        (),
        ("footer",),
        id="exclude-element",
    ),
    pytest.param(
        f'<p class="legal">Siège : <span>{TEL_LINK}</span></p><p>{TEL_LINK}</p>',
        f'<p class="legal">Siège : <span>{TEL_LINK}</span></p><p>{TEL_LINK_REWRITTEN}</p>',
        (),
        (".legal",),
        id="exclude-class-covers-descendants",
    ),
    pytest.param(
        '<p id="fax">Fax 04 90 26 07 16</p><p>Tél 04 90 26 07 16</p>',
        '<p id="fax">Fax 04 90 26 07 16</p><p>Tél 08 99 12 34 56</p>',
        (),
        ("#fax", ".absent"),
        id="exclude-id-and-unmatched-selector",
    ),
    pytest.param(
        '<a class="fax" href="tel:+33490260716">04 90 26 07 16</a><p>04 90 26 07 16</p>',
        '<a class="fax" href="tel:+33490260716">04 90 26 07 16</a><p>08 99 12 34 56</p>',
        (),
        ("a.fax",),
        id="exclude-link-keeps-its-href",
    ),
    pytest.param(
        f"<header>{TEL_LINK}</header><main>{TEL_LINK}</main>",
        f"<header>{TEL_LINK}</header><main>{TEL_LINK_REWRITTEN}</main>",
        ("main",),
        (),
        id="include-only-main",
    ),
    pytest.param(
        '<main><p>04 90 26 07 16</p><p class="legal">04 90 26 07 16</p></main>'
        "<p>04 90 26 07 16</p>",
        '<main><p>08 99 12 34 56</p><p class="legal">04 90 26 07 16</p></main>'
        "<p>04 90 26 07 16</p>",
        ("main",),
        (".legal",),
        id="include-and-exclude",
    ),
    pytest.param(
        "<main><p>Tél : <b>04</b> 90 26 07 16</p></main>",
        "<main><p>Tél : <b>08</b> 99 12 34 56</p></main>",
        ("main",),
        (),
        id="include-split-number",
    ),
]


@pytest.mark.parametrize(("body", "expected", "include", "exclude"), SELECTORS)
def test_rule_selectors(
    body: str, expected: str, include: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    out = rewrite(html_page(body), {ORIGINAL: TRACKING}, include=include, exclude=exclude)
    assert out == html_page(expected).encode()


SKIPPED = [
    pytest.param("<div data-dni-skip><p>04 90 26 07 16</p></div>", id="bare-attribute"),
    pytest.param('<div data-dni-skip=""><p>04 90 26 07 16</p></div>', id="empty-value"),
    pytest.param('<p data-dni-skip="true">Tél <b>04</b> 90 26 07 16</p>', id="split-number"),
    pytest.param(f"<div data-dni-skip>{TEL_LINK}</div>", id="link-inside"),
    pytest.param(
        '<a data-dni-skip href="tel:+33490260716">04 90 26 07 16</a>', id="on-the-link-itself"
    ),
]


@pytest.mark.parametrize("body", SKIPPED)
def test_data_dni_skip_protects_its_element(body: str) -> None:
    html = html_page(body + "<p>04 90 26 07 16</p>")
    expected = html_page(body + "<p>08 99 12 34 56</p>")
    page = scan_html(html, ORIGINAL)
    assert [o.where for o in page.occurrences] == ["text"]
    assert rewrite(html, {ORIGINAL: TRACKING}) == expected.encode()
