"""Charsets: the page is read and written in its own encoding; and its title, decoded."""

from __future__ import annotations

import codecs
import re

import pytest
from factories import ORIGINAL, TRACKING, rewrite, scan_html

UTF8_BOM = codecs.BOM_UTF8
# 04 90 26 07 16 -> 08 99 12 34 56, one digit at a time, whatever separates them.
SAME_DIGITS_ANY_SEPARATOR = re.compile(
    r"0\D{0,2}4\D{0,2}9\D{0,2}0\D{0,2}2\D{0,2}6\D{0,2}0\D{0,2}7\D{0,2}1\D{0,2}6"
)


def digit_for_digit(written: str, digits: str = "0899123456") -> str:
    new = iter(digits)
    return "".join(next(new) if char.isdigit() else char for char in written)


FILLER = "<!-- " + "x" * 1100 + " -->"


def doc(head: str = "", body: str = "<p>Tél : 04 90 26 07 16</p>") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>T</title></head><body>{body}</body></html>"


DETECTION = [
    pytest.param(doc().encode(), None, "utf-8", id="valid-utf8-without-declaration"),
    pytest.param(doc().encode("cp1252"), None, "cp1252", id="invalid-utf8-falls-back-to-1252"),
    pytest.param(doc('<meta charset="windows-1251">').encode(), None, "cp1251", id="meta-charset"),
    pytest.param(
        doc('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">').encode(),
        None,
        "koi8-r",
        id="meta-http-equiv",
    ),
    pytest.param(
        doc('<meta content="text/html; charset=windows-1251" http-equiv="Content-Type">').encode(),
        None,
        "cp1251",
        id="meta-http-equiv-content-first",
    ),
    pytest.param(
        doc('<meta charset="x-user-defined">').encode(),
        None,
        "cp1252",
        id="meta-x-user-defined-means-windows-1252",
    ),
    pytest.param(
        doc("<meta charset='ISO-8859-1'>").encode(),
        None,
        "cp1252",
        id="meta-latin1-label-means-windows-1252",
    ),
    pytest.param(
        doc('<meta charset="utf-16">').encode(), None, "utf-8", id="meta-utf16-means-utf8"
    ),
    pytest.param(
        doc('<!-- <meta charset="koi8-r"> --><meta charset="windows-1251">').encode(),
        None,
        "cp1251",
        id="prescan-skips-comments",
    ),
    pytest.param(
        doc(FILLER + '<meta charset="windows-1251">').encode(),
        None,
        "utf-8",
        id="meta-after-1024-bytes-is-ignored",
    ),
    pytest.param(
        UTF8_BOM + doc('<meta charset="windows-1251">').encode(), None, "utf-8", id="bom-beats-meta"
    ),
    pytest.param(
        codecs.BOM_UTF16_LE + doc().encode("utf-16-le"), None, "utf-16-le", id="utf16-bom"
    ),
    pytest.param(
        doc('<meta charset="windows-1251">').encode(), "utf-8", "utf-8", id="caller-beats-meta"
    ),
    pytest.param(UTF8_BOM + doc().encode(), "windows-1252", "cp1252", id="caller-beats-bom"),
    pytest.param(doc().encode(), "UTF-8", "utf-8", id="caller-label-any-case"),
    pytest.param(doc().encode(), "x-no-such-charset", "utf-8", id="unknown-caller-label-ignored"),
]


@pytest.mark.parametrize(("body", "charset", "expected"), DETECTION)
def test_charset_detection(body: bytes, charset: str | None, expected: str) -> None:
    page = scan_html(body, ORIGINAL, charset=charset)
    assert codecs.lookup(page.charset).name == codecs.lookup(expected).name


REWRITES = [
    pytest.param(
        doc(body="<p>Société, tél : 04 90 26 07 16</p>"), "cp1252", None, id="windows-1252-bytes"
    ),
    pytest.param(
        doc(body="<p>Tél\u00a0: 04\u00a090\u00a026\u00a007\u00a016</p>"),
        "cp1252",
        None,
        id="windows-1252-raw-nbsp-separators",
    ),
    pytest.param(
        doc('<meta charset="windows-1251">', "<p>Телефон: 04 90 26 07 16</p>"),
        "cp1251",
        None,
        id="windows-1251-declared",
    ),
    pytest.param(
        doc('<meta charset="shift_jis">', "<p>電話：04-90-26-07-16（代表）</p>"),
        "shift_jis",
        None,
        id="shift-jis-declared",
    ),
]


@pytest.mark.parametrize(("html", "encoding", "charset"), REWRITES)
def test_output_is_written_in_the_page_encoding(
    html: str, encoding: str, charset: str | None
) -> None:
    expected = SAME_DIGITS_ANY_SEPARATOR.sub(lambda m: digit_for_digit(m[0]), html)
    assert expected != html
    out = rewrite(html.encode(encoding), {ORIGINAL: TRACKING}, charset=charset)
    assert out == expected.encode(encoding)


# UTF-16 and UTF-32 pages are scanned through a lossless UTF-8 view and written back
# in their own encoding, byte order mark included.
WIDE = [
    pytest.param(codecs.BOM_UTF16_LE, None, "utf-16-le", id="utf16-bom"),
    pytest.param(b"", "utf-16-le", "utf-16-le", id="utf16-from-caller"),
    pytest.param(codecs.BOM_UTF16_BE, None, "utf-16-be", id="utf16-big-endian-bom"),
    pytest.param(b"", "utf-16-be", "utf-16-be", id="utf16-big-endian-from-caller"),
]


@pytest.mark.parametrize(("bom", "charset", "codec"), WIDE)
def test_wide_page_is_rewritten_in_its_encoding(
    bom: bytes, charset: str | None, codec: str
) -> None:
    html = doc(body="<p>Tél : 04 90 26 07 16</p>")
    out = rewrite(bom + html.encode(codec), {ORIGINAL: TRACKING}, charset=charset)
    assert out == bom + html.replace(ORIGINAL, TRACKING).encode(codec)


def test_wide_page_with_a_lone_surrogate_keeps_it() -> None:
    body = codecs.BOM_UTF16_LE + "<p>\ud800 04 90 26 07 16</p>".encode("utf-16-le", "surrogatepass")
    out = rewrite(body, {ORIGINAL: TRACKING})
    assert out == codecs.BOM_UTF16_LE + "<p>\ud800 08 99 12 34 56</p>".encode(
        "utf-16-le", "surrogatepass"
    )


def test_wide_page_cut_mid_character_comes_back_unchanged() -> None:
    body = codecs.BOM_UTF16_LE + "<p>04 90 26 07 16</p>".encode("utf-16-le") + b"\x00"
    assert rewrite(body, {ORIGINAL: TRACKING}) == body


INVALID_BYTES = [
    pytest.param(b"\xff\xfe", "utf-8", id="invalid-utf8-declared-by-caller"),
    pytest.param(b"\xc3(", None, id="broken-utf8-sequence-detected-as-1252"),
    pytest.param(b"\xe9t\xe9 \x80\x81", None, id="latin1-with-undefined-1252-bytes"),
    pytest.param(b"\xed\xa0\x80", "utf-8", id="utf8-encoded-surrogate"),
]


@pytest.mark.parametrize(("junk", "charset"), INVALID_BYTES)
def test_bytes_outside_the_number_stay_identical_even_when_invalid(
    junk: bytes, charset: str | None
) -> None:
    body = b"<p>" + junk + b" 04 90 26 07 16 " + junk + b"</p>" + junk
    out = rewrite(body, {ORIGINAL: TRACKING}, charset=charset)
    assert out == body.replace(ORIGINAL.encode(), TRACKING.encode())


def test_utf8_bom_and_crlf_survive() -> None:
    body = UTF8_BOM + doc(body="<p>Tél :\r\n04 90 26 07 16\r\n</p>").encode()
    out = rewrite(body, {ORIGINAL: TRACKING})
    assert out == body.replace(ORIGINAL.encode(), TRACKING.encode())


def title_of(head: str, encoding: str = "utf-8") -> str:
    html = f"<!DOCTYPE html><html><head>{head}</head><body><p>x</p></body></html>"
    return scan_html(html.encode(encoding), ORIGINAL).title


TITLES = [
    pytest.param("<title>Plomberie Durand</title>", "Plomberie Durand", id="plain"),
    pytest.param(
        "<title>Plomberie &amp; Chauffage &#8211; Avignon</title>",
        "Plomberie & Chauffage – Avignon",
        id="entities-decoded",
    ),
    pytest.param(
        "<title>\n  Plomberie\t Durand \r\n</title>", "Plomberie Durand", id="whitespace-collapsed"
    ),
    pytest.param("<TITLE>Plomberie</TITLE>", "Plomberie", id="upper-case-tag"),
    pytest.param("<title>a <b>c</b></title>", "a <b>c</b>", id="tags-are-text"),
    pytest.param(
        "<!-- <title>Ancien</title> --><title>Nouveau</title>",
        "Nouveau",
        id="commented-out-title-ignored",
    ),
    pytest.param("<title>Un</title><title>Deux</title>", "Un", id="first-title"),
    pytest.param(
        "<title>Tél 04 90 26 07 16</title>", "Tél 04 90 26 07 16", id="number-kept-in-title"
    ),
    pytest.param("", "", id="no-title"),
]


@pytest.mark.parametrize(("head", "title"), TITLES)
def test_title(head: str, title: str) -> None:
    assert title_of(head) == title


def test_title_is_decoded_from_the_page_charset() -> None:
    assert title_of("<title>Société Générale</title>", "cp1252") == "Société Générale"


def test_title_is_bounded() -> None:
    words = " ".join(f"mot{i}" for i in range(1000))
    title = title_of(f"<title>{words}</title>")
    assert 0 < len(title) <= 512
    assert words.startswith(title.rstrip("…").rstrip())
