"""The provider call around a page view: once per real view, never late, never for robots."""

from __future__ import annotations

import gzip
import re
import time
from typing import Any

import pytest
from aiohttp import web
from factories import html_page
from harness import GOOGLEBOT_UA, running_proxy, running_site, sentinel_sandbox, settle

from proxy.runtime import RUNTIME

PAGE = html_page('<p>Tél : 04 90 26 07 16</p><a href="tel:+33490260716">Appeler</a>')
NUMBER = re.compile(rb"<p>T\xc3\xa9l : (\d\d \d\d \d\d \d\d \d\d)</p>")


def number_on(body: bytes) -> str:
    found = NUMBER.search(body)
    assert found is not None, body
    return found[1].decode()


async def views(sandbox: Any) -> int:
    return int((await sandbox.requests())["ospView"])


async def test_second_view_continues_the_visit_with_the_same_number() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        site.page("/page/a", PAGE)
        site.page("/page/b", PAGE.replace("Accueil", "Contact"))
        _, first_headers, first = await proxy.get("/page/a")
        _, _, second = await proxy.get("/page/b")
        recorded = await sandbox.get("/sandbox/views")
    visit = [c for c in first_headers.getall("Set-Cookie") if c.startswith("optico_visit_id=")]
    assert len(visit) == 1
    assert [v["visit_id"] for v in recorded] == [recorded[0]["visit_id"]] * 2
    assert visit[0].startswith(f"optico_visit_id={recorded[0]['visit_id']};")
    assert number_on(first) == number_on(second) != "04 90 26 07 16"


async def test_a_visit_starting_on_a_page_without_phone_keeps_one_visit_id() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        site.page("/blog", "<html><head><title>Le blog</title></head><body>Bonjour</body></html>")
        site.page("/page/a", PAGE)
        started = time.monotonic()
        status, _, _ = await proxy.get("/blog", headers={"Referer": "https://www.google.fr/"})
        assert status == 200 and time.monotonic() - started < 1.0
        await settle(proxy)
        _, _, body = await proxy.get("/page/a")
        recorded = await sandbox.get("/sandbox/views")
    assert [v["page_title"] for v in recorded] == ["Le blog", "Test"]
    assert recorded[0]["visit_id"] == recorded[1]["visit_id"]
    assert recorded[0]["referer_url"] == "https://www.google.fr/"
    assert number_on(body) != "04 90 26 07 16"


ROBOTS = [
    pytest.param({"User-Agent": GOOGLEBOT_UA}, id="googlebot"),
    pytest.param({"User-Agent": ""}, id="no-user-agent"),
    pytest.param({"Sec-Purpose": "prefetch"}, id="sec-purpose-prefetch"),
    pytest.param({"Sec-Purpose": "prefetch;prerender"}, id="sec-purpose-prerender"),
    pytest.param({"Purpose": "prefetch"}, id="purpose-prefetch"),
    pytest.param({"X-Moz": "prefetch"}, id="x-moz-prefetch"),
]


@pytest.mark.parametrize("headers", ROBOTS)
async def test_robots_get_the_original_page_and_cost_no_call(headers: dict[str, str]) -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        site.page("/page/a", PAGE)
        site.page("/blog", "<html><title>Blog</title></html>")
        _, response_headers, body = await proxy.get("/page/a", headers=headers)
        await proxy.get("/blog", headers=headers)
        await settle(proxy)
        assert body == PAGE.encode()
        assert "Set-Cookie" not in response_headers
        assert await views(sandbox) == 0


async def ranged(request: web.Request) -> web.Response:
    body = PAGE.encode()
    if request.headers.get("If-None-Match") == '"v1"':
        return web.Response(status=304, headers={"ETag": '"v1"'})
    if "Range" in request.headers:
        return web.Response(
            status=206,
            body=body[:100],
            content_type="text/html",
            headers={"Content-Range": f"bytes 0-99/{len(body)}"},
        )
    if request.method == "POST":
        return web.Response(body=body, content_type="text/html")
    return web.Response(body=body, content_type="text/html", headers={"ETag": '"v1"'})


UNTOUCHED = [
    pytest.param("HEAD", "/page/ranged", {}, b"", id="head"),
    pytest.param("GET", "/page/ranged", {"Range": "bytes=0-99"}, PAGE.encode()[:100], id="206"),
    pytest.param("GET", "/page/ranged", {"If-None-Match": '"v1"'}, b"", id="304"),
    pytest.param("POST", "/page/ranged", {}, PAGE.encode(), id="post"),
    pytest.param("GET", "/page/api.json", {}, b'{"tel": "04 90 26 07 16"}', id="json"),
    pytest.param("GET", "/page/notransform", {}, PAGE.encode(), id="no-transform"),
    pytest.param("GET", "/page/download", {}, PAGE.encode(), id="attachment"),
    pytest.param("GET", "/page/missing", {}, PAGE.encode(), id="404-html"),
    pytest.param("GET", "/page/big", {}, None, id="over-the-cap"),
]
BIG = html_page("<p>04 90 26 07 16</p>" + "<p>texte</p>" * 12_000)


@pytest.mark.parametrize(("method", "path", "headers", "expected"), UNTOUCHED)
async def test_not_a_page_view_streams_unchanged_and_costs_no_call(
    method: str, path: str, headers: dict[str, str], expected: bytes | None
) -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, rewrite_max="64KiB") as proxy,
    ):
        site.handlers["/page/ranged"] = ranged
        site.page("/page/api.json", expected or b"", content_type="application/json")
        site.page("/page/notransform", PAGE, headers={"Cache-Control": "no-transform"})
        site.page("/page/download", PAGE, headers={"Content-Disposition": "attachment"})
        site.page("/page/big", BIG, encoding="gzip")

        async def missing(request: web.Request) -> web.Response:
            return web.Response(status=404, body=PAGE.encode(), content_type="text/html")

        site.handlers["/page/missing"] = missing
        async with proxy.client.request(method, proxy.at(path), headers=headers) as response:
            body = await response.read()
        await settle(proxy)
        assert body == (BIG.encode() if expected is None else expected)
        assert await views(sandbox) == 0


FAULTS = [
    pytest.param({"latency_ms": 2000}, id="latency-beyond-deadline"),
    pytest.param({"error_rate": 1.0}, id="system-error"),
    pytest.param({"hang": True}, id="hang"),
    pytest.param({"close": True}, id="closed-connection"),
    pytest.param({"malformed": True}, id="malformed-json"),
    pytest.param({"exhausted": True}, id="pool-exhausted"),
]
DEADLINE = 0.3
MARGIN = 0.5


@pytest.mark.parametrize("fault", FAULTS)
async def test_provider_faults_serve_original_numbers_on_time(fault: dict[str, Any]) -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, provider_timeout=f"{DEADLINE}s") as proxy,
    ):
        site.page("/page/a", PAGE, encoding="gzip")
        await sandbox.faults(**fault)
        for _ in range(2):
            started = time.monotonic()
            status, _, body = await proxy.get("/page/a")
            assert time.monotonic() - started < DEADLINE + MARGIN
            assert (status, body) == (200, PAGE.encode())
        await sandbox.clear_faults()


async def test_the_breaker_stops_calls_to_a_failing_provider() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, breaker_failures=3, breaker_cooldown="60s") as proxy,
    ):
        site.page("/page/a", PAGE)
        await sandbox.faults(error_rate=1.0)
        for _ in range(3):
            assert (await proxy.get("/page/a"))[2] == PAGE.encode()
        assert await views(sandbox) == 3
        for _ in range(10):
            assert (await proxy.get("/page/a"))[2] == PAGE.encode()
        assert await views(sandbox) == 3
        _, _, metrics = await proxy.get("/__dni/metrics")
        assert b'dni_breaker_state{provider="optico"} 2.0' in metrics


BOMB = gzip.compress(PAGE.encode() + b" " * 5_000_000)
BROKEN = [
    pytest.param("gzip", b"\x1f\x8b\x08\x00not really gzip", "decode", id="corrupt-gzip"),
    pytest.param("gzip", BOMB, "over_cap", id="decoded-over-the-cap"),
    pytest.param("gzip, br", PAGE.encode(), "decode", id="stacked-codings"),
    pytest.param("compress", PAGE.encode(), "decode", id="unknown-coding"),
]


@pytest.mark.parametrize(("coding", "raw", "reason"), BROKEN)
async def test_undecodable_pages_are_served_as_sent_and_the_log_says_why(
    coding: str, raw: bytes, reason: str
) -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        site.page("/page/broken", raw, headers={"Content-Encoding": coding, "ETag": '"e1"'})
        async with proxy.client.get(proxy.at("/page/broken"), auto_decompress=False) as response:
            assert response.headers["Content-Encoding"] == coding
            assert response.headers["ETag"] == '"e1"'
            assert await response.read() == raw
        (line,) = proxy.lines_about("/page/broken")
        assert '"outcome": "fail_open"' in line and f'"reason": "{reason}"' in line
        assert await views(sandbox) == 0


class BrokenProvider:
    """A provider client with a bug: it raises instead of answering with a fallback."""

    name = "optico"

    async def view(self, view: object) -> object:
        raise ZeroDivisionError("a bug in a provider client")

    async def click(self, click: object) -> object:
        raise ZeroDivisionError("a bug in a provider client")

    async def close(self) -> None:
        pass


async def test_a_provider_client_bug_serves_the_page_as_sent_and_logs_the_traceback() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        runtime = proxy.app[RUNTIME]
        runtime.providers = {name: BrokenProvider() for name in runtime.providers}
        site.page("/page/a", PAGE, headers={"ETag": '"e1"'})
        status, headers, body = await proxy.get("/page/a")
        assert status == 200 and body == PAGE.encode()
        assert headers["ETag"] == '"e1"'
        (line,) = proxy.lines_about("/page/a")
        assert '"outcome": "fail_open"' in line and '"reason": "provider"' in line
        (error,) = [line for line in proxy.logs.lines if '"internal_error"' in line]
        assert "ZeroDivisionError" in error and '"where": "provider"' in error
