"""Click display: every occurrence becomes an accessible reveal element carrying a token."""

from __future__ import annotations

import pytest
from factories import (
    ORIGINAL,
    as_bytes,
    button,
    click,
    html_page,
    reveal_script,
    scan_html,
)

TOKEN = "tok-avignon"


def page_with(body: str, tail: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>T</title></head><body>{body}{tail}</body></html>"


CLICK = [
    pytest.param("<p>Tél : 04 90 26 07 16</p>", f"<p>Tél : {button(TOKEN)}</p>", id="text"),
    pytest.param(
        "<p>04&nbsp;90&nbsp;26&nbsp;07&nbsp;16</p>", f"<p>{button(TOKEN)}</p>", id="entities"
    ),
    pytest.param(
        '<a href="tel:+33490260716" class="btn call" id="c">Appeler</a>',
        f'<a data-dni-token="{TOKEN}" role="button" href="#" class="btn call" id="c">Appeler</a>',
        id="tel-link-keeps-element-attributes-and-classes",
    ),
    pytest.param(
        '<a class="tel" href="tel:0490260716">04 90 26 07 16</a>',
        f'<a data-dni-token="{TOKEN}" role="button" class="tel" href="#">Afficher le numéro</a>',
        id="tel-link-digits-become-the-label",
    ),
    pytest.param(
        "<A HREF='callto:0490260716'>Tél 04 90 26 07 16</A>",
        f'<A data-dni-token="{TOKEN}" role="button" HREF=\'#\'>Tél Afficher le numéro</A>',
        id="callto-upper-case",
    ),
]


@pytest.mark.parametrize(("body", "expected"), CLICK)
def test_click_markup(body: str, expected: str) -> None:
    out = click(page_with(body), {ORIGINAL: TOKEN})
    assert out == page_with(expected, reveal_script()).encode()


def test_split_number_becomes_one_button() -> None:
    before, after = "<p>Tél : <b>", ".</p>"
    html = page_with(f"{before}04</b> 90 26 07 16{after}")
    out = click(html, {ORIGINAL: TOKEN})
    start = out.index(button(TOKEN).encode())
    assert out[:start] == html.encode()[:start]
    assert out.count(b"<button") == 1
    assert out.endswith(f"{after}{reveal_script()}</body></html>".encode())
    assert scan_html(out, ORIGINAL).occurrences == ()


def test_one_script_for_many_occurrences_before_the_last_body_end_tag() -> None:
    body = "<p>04 90 26 07 16</p><!-- </body> --><p>0490260716</p>"
    out = click(page_with(body), {ORIGINAL: TOKEN})
    expected = f"<p>{button(TOKEN)}</p><!-- </body> --><p>{button(TOKEN)}</p>"
    assert out == page_with(expected, reveal_script()).encode()
    assert out.count(b"<script") == 1


def test_script_goes_at_the_end_without_a_body_end_tag() -> None:
    out = click("<p>Tél 04 90 26 07 16</p>\n", {ORIGINAL: TOKEN})
    assert out == f"<p>Tél {button(TOKEN)}</p>\n{reveal_script()}".encode()


def test_no_occurrence_no_script() -> None:
    html = page_with("<p>Bienvenue</p>")
    assert click(html, {ORIGINAL: TOKEN}) == html.encode()


def test_phones_without_a_token_keep_their_number_and_need_no_script() -> None:
    html = page_with("<p>04 66 21 21 21</p>")
    page = scan_html(html, "04 66 21 21 21")
    assert page.render_click({}, script_src="/__dni/reveal.js") == html.encode()


def test_no_rewritable_context_keeps_the_original_number() -> None:
    html = html_page(
        '<a href="tel:+33490260716">04 90 26 07 16</a><p>+33 (0)4 90 26 07 16</p>'
        "<p><span>04 90</span> 26 07 16</p>"
    )
    out = click(html, {ORIGINAL: TOKEN})
    assert scan_html(out, ORIGINAL).occurrences == ()
    assert out.count(b'data-dni-token="tok-avignon"') == 3


def test_label_is_configurable_and_escaped() -> None:
    out = click(page_with("<p>04 90 26 07 16</p>"), {ORIGINAL: TOKEN}, label="Voir <le> n° & co")
    label = "Voir &lt;le&gt; n° &amp; co"
    assert out == page_with(f"<p>{button(TOKEN, label)}</p>", reveal_script()).encode()


def test_label_is_written_in_the_page_charset() -> None:
    html = page_with("<p>Tél : 04 90 26 07 16</p>").encode("cp1252")
    out = click(html, {ORIGINAL: TOKEN}, charset="windows-1252")
    expected = page_with(f"<p>Tél : {button(TOKEN)}</p>", reveal_script())
    assert out == as_bytes(expected, "cp1252")
