"""Pages through the whole proxy: the real upstream, the real sandbox, a real HTTP client.

The written forms and contexts come from the rules' own tables; the proxy's
answer must be the upstream page with exactly the numbers changed, every other
byte as it was, over every content coding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from factories import html_page
from harness import DECODERS, Harness, running_proxy, running_site, sentinel_sandbox
from test_rules_contexts import HIDDEN, VISIBLE
from test_rules_forms import FRENCH_INTERNATIONAL, FRENCH_NATIONAL

TRACKING_NSN = "899123456"
"""The national significant number of the rules tables' tracking number, 08 99 12 34 56."""
_TOKEN = re.compile(r"&#?\w+;|\d|.", re.DOTALL)


def with_number(expected: str, nsn: str) -> str:
    """A table's expected text with its tracking number replaced, digit for digit, by `nsn`.

    Every French form ends with the 9 digits of the national significant number;
    entities (`&#160;`) are kept whole, their digits are not the number's.
    """
    tokens = _TOKEN.findall(expected)
    digit_slots = [i for i, token in enumerate(tokens) if token.isdigit()]
    for slot, digit in zip(digit_slots[-len(nsn) :], nsn, strict=True):
        tokens[slot] = digit
    return "".join(tokens)


def rows(table: Iterable[object]) -> list[tuple[str, str]]:
    return [tuple(param.values) for param in table]  # type: ignore[attr-defined]


async def assigned_nsn(proxy: Harness) -> str:
    """The tracking number the visit got for 04 90 26 07 16, read from a probe page."""
    proxy.site.page("/page/probe", html_page("<p>0490260716</p>"))
    _, _, body = await proxy.get("/page/probe")
    found = re.search(rb"<p>(\d{10})</p>", body)
    assert found is not None and found[1] != b"0490260716", body
    return found[1].decode()[1:]


FORMS = rows(FRENCH_NATIONAL) + rows(FRENCH_INTERNATIONAL)


@pytest.mark.parametrize("encoding", ["identity", "gzip", "br", "zstd", "deflate"])
async def test_every_written_form_is_swapped_over_every_coding(encoding: str) -> None:
    written = html_page("".join(f"<p>{original}</p>\n" for original, _ in FORMS))
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        nsn = await assigned_nsn(proxy)
        site.page("/page/forms", written, encoding=encoding)
        accept = {"Accept-Encoding": "gzip, deflate, br, zstd"}
        async with proxy.client.get(
            proxy.at("/page/forms"), headers=accept, auto_decompress=False
        ) as response:
            assert response.headers.get("Content-Encoding", "identity") == encoding
            body = DECODERS[encoding](await response.read())
    expected = html_page("".join(f"<p>{with_number(out, nsn)}</p>\n" for _, out in FORMS))
    assert body.decode() == expected


async def test_hidden_contexts_are_left_byte_for_byte() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        for (body,) in (param.values for param in HIDDEN):
            page = html_page(f"<p>Accueil</p>{body}")
            site.page("/page/hidden", page)
            _, _, got = await proxy.get("/page/hidden")
            assert got == page.encode(), body


async def test_visible_contexts_are_swapped() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        nsn = await assigned_nsn(proxy)
        for (body,) in (param.values for param in VISIBLE):
            page = html_page(body)
            site.page("/page/visible", page)
            _, _, got = await proxy.get("/page/visible")
            expected = page.replace("04 90 26 07 16", with_number("08 99 12 34 56", nsn))
            assert got.decode() == expected, body


LEGACY_PAGE = (
    '<html><head><meta charset="windows-1252"><title>Société Dupré – Accueil</title></head>'
    "<body><h1>Café « Chez René »</h1><p>Tél.&nbsp;: 04 90 26 07 16 – ouvert 7j/7</p>"
    '<p>Devis : <a href="tel:0490260716">04.90.26.07.16</a> © 2003 · œuvres</p></body></html>'
).encode("cp1252")


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "text/html; charset=windows-1252"],
    ids=["meta-charset-only", "header-charset"],
)
async def test_windows_1252_page_keeps_every_other_byte(content_type: str) -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        nsn = await assigned_nsn(proxy)
        site.page("/page/legacy", LEGACY_PAGE, content_type=content_type, encoding="gzip")
        _, headers, body = await proxy.get("/page/legacy")
    national = "0" + nsn
    spaced = " ".join(national[i : i + 2] for i in range(0, 10, 2))
    expected = (
        LEGACY_PAGE.replace(b"04 90 26 07 16", spaced.encode())
        .replace(b"tel:0490260716", f"tel:{national}".encode())
        .replace(b"04.90.26.07.16", spaced.replace(" ", ".").encode())
    )
    assert headers["Content-Type"] == content_type
    assert body == expected
    assert "\ufffd" not in body.decode("cp1252")


async def test_rewritten_page_headers() -> None:
    upstream_headers = {
        "ETag": '"abc"',
        "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
        "Content-MD5": "Q2hlY2sgSW50ZWdyaXR5IQ==",
        "Accept-Ranges": "bytes",
        "Cache-Control": "public, max-age=600",
        "Vary": "Accept-Encoding",
        "X-Frame-Options": "DENY",
    }
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        site.page(
            "/page/headers",
            html_page("<p>04 90 26 07 16</p>"),
            encoding="gzip",
            headers=upstream_headers,
        )
        async with proxy.client.get(
            proxy.at("/page/headers"), headers={"Accept-Encoding": "gzip"}, auto_decompress=False
        ) as response:
            raw = await response.read()
            headers = response.headers
    for name in ("ETag", "Last-Modified", "Content-MD5", "Accept-Ranges"):
        assert name not in headers
    assert headers["Content-Length"] == str(len(raw))
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "private, max-age=600"
    assert headers["Vary"] == "Accept-Encoding, Cookie"
    assert headers["X-Frame-Options"] == "DENY"
    cookies = headers.getall("Set-Cookie")
    assert [c.split("=")[0] for c in cookies] == ["dni_id", "optico_visit_id"]
    assert all("Path=/; Max-Age=1800; HttpOnly; SameSite=Lax" in c for c in cookies)
    assert not any("Secure" in c for c in cookies)


async def test_cookies_are_secure_when_the_public_scheme_is_https() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, trusted='"127.0.0.0/8"') as proxy,
    ):
        site.page("/page/a", html_page("<p>04 90 26 07 16</p>"))
        _, headers, _ = await proxy.get("/page/a", headers={"X-Forwarded-Proto": "https"})
        cookies = headers.getall("Set-Cookie")  # type: ignore[attr-defined]
        assert len(cookies) == 2 and all(c.endswith("; Secure") for c in cookies)
        views = await sandbox.get("/sandbox/views")
        assert views[-1]["url"].startswith("https://")
