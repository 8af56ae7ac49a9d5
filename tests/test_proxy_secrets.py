"""The provider API key never leaves the proxy: no response, no log line, whatever happens.

Every harness-run test already checks this for its own traffic (`harness.leak_check`
and the log capture); this file drives the paths most likely to leak on purpose:
provider errors that echo the request, garbage, hangs, clicks, metrics.
"""

from __future__ import annotations

import logging

from aiohttp import web
from factories import html_page
from harness import SENTINEL_KEY, Harness, running_proxy, running_site, sentinel_sandbox, settle

from proxy.logs import JsonFormatter

PAGE = html_page("<p>04 90 26 07 16</p>")
CONTACT = html_page("<p>Appelez le 04 90 26 07 16</p>")


async def everything_once(proxy: Harness) -> list[bytes]:
    """Pages, a page without phone, a robot, clicks (valid, forged), ops endpoints, a 404."""
    proxy.site.page("/page/a", PAGE, encoding="gzip")
    proxy.site.page("/contact", CONTACT)
    proxy.site.page("/blog", "<html><title>Blog</title></html>")
    seen: list[bytes] = []
    for path in ("/page/a", "/contact", "/blog", "/missing", "/__dni/readyz"):
        _, headers, body = await proxy.get(path)
        seen += [repr(list(headers.items())).encode(), body]
    token = (
        seen[3].split(b'data-dni-token="')[1].split(b'"')[0].decode()
        if b"data-dni" in seen[3]
        else ""
    )
    for candidate in (token, token[:-1] + "A", "forged"):
        async with proxy.client.post(proxy.at("/__dni/click"), data={"token": candidate}) as r:
            seen.append(await r.read())
    await settle(proxy)
    seen.append((await proxy.get("/__dni/metrics"))[2])
    return seen


def assert_no_key(proxy: Harness, seen: list[bytes]) -> None:
    assert all(SENTINEL_KEY.encode() not in chunk for chunk in seen)
    assert all(SENTINEL_KEY not in line for line in proxy.logs.lines)


async def test_key_stays_secret_with_a_healthy_provider() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        seen = await everything_once(proxy)
        assert (await sandbox.requests())["ospView"] >= 2
        assert_no_key(proxy, seen)


async def test_key_stays_secret_through_provider_faults() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, provider_timeout="300ms") as proxy,
    ):
        for fault in ({"malformed": True}, {"error_rate": 1.0}, {"hang": True}, {"close": True}):
            await sandbox.faults(**fault)
            assert_no_key(proxy, await everything_once(proxy))
            await sandbox.clear_faults()


async def test_key_stays_secret_when_the_provider_echoes_the_request() -> None:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(status=500, body=b"error: " + body, headers={"X-Echo": body.decode()})

    async with running_site() as provider, running_site() as site:
        provider.handlers["/ospView"] = echo
        provider.handlers["/ospClick"] = echo
        async with running_proxy(site, sandbox=_Fake(provider.url)) as proxy:
            seen = await everything_once(proxy)
            assert provider.requests_to("/ospView")
            assert_no_key(proxy, seen)


class _Fake:
    """A stand-in with the sandbox's two attributes the harness reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api_key = SENTINEL_KEY


def test_log_lines_are_redacted_whatever_writes_them() -> None:
    formatter = JsonFormatter(secrets=[SENTINEL_KEY, "token-secret-value"])
    record = logging.LogRecord(
        "any", logging.ERROR, __file__, 1, "failed with %s", (f"api_key={SENTINEL_KEY}",), None
    )
    line = formatter.format(record)
    assert SENTINEL_KEY not in line and "[redacted]" in line
