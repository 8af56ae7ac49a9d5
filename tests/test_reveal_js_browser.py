"""reveal.js in headless Chromium, under `script-src 'self'`, against the real sandbox."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from test_providers_setup import config, optico, page_view, phone_rule, rule, visitor

from proxy.click import ClickTokens, click_routes, reveal_script_src
from proxy.providers import build_providers
from proxy.providers.http import ProviderHttp
from sandbox.testing import RunningSandbox, running_sandbox

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)"),
]

AVIGNON = phone_rule("04 90 26 07 16")
ANNECY = phone_rule("04.50.98.27.56", type=5)
REVEAL = rule("reveal", "optico", [AVIGNON, ANNECY], display="click")
LABEL = "Afficher le numéro"
POLICY = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'"

PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Contact</title></head>
<body>
<p id="top">Avignon : {avignon_button}</p>
<p id="annecy">Annecy : {annecy_button}</p>
<footer>Appelez le {avignon_button}
<a id="call" class="call" href="#" role="button" data-dni-token="{avignon}">
<span class="icon"></span> {label} </a></footer>
<p><a id="lonely" href="#" role="button" data-dni-token="{lonely}">Appeler Annecy</a></p>
<script src="{src}" defer></script>
</body></html>
"""

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def button(token: str) -> str:
    return f'<button type="button" class="dni-reveal" data-dni-token="{token}">{LABEL}</button>'


@dataclass
class Site:
    url: str
    sandbox: RunningSandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@pytest.fixture
async def site(aiohttp_server: ServerFactory, sandbox: RunningSandbox) -> AsyncIterator[Site]:
    cfg = config([optico(sandbox.url, sandbox.api_key)], [REVEAL])
    async with ProviderHttp() as http:
        providers = build_providers(cfg, http)
        tokens = ClickTokens(b"b" * 32, cfg.server.token_ttl)
        phones = (AVIGNON.phone, ANNECY.phone)
        view = await providers["optico"].view(
            page_view(visitor(), phones, rule_name="reveal", display="click")
        )
        avignon = tokens.sign(view, AVIGNON.phone.e164, "reveal", "04 90 26 07 16")
        annecy = tokens.sign(view, ANNECY.phone.e164, "reveal", "04.50.98.27.56")
        lonely = tokens.sign(view, ANNECY.phone.e164, "reveal", "04 50 98 27 56")
        html = PAGE.format(
            avignon=avignon,
            avignon_button=button(avignon),
            annecy_button=button(annecy),
            lonely=lonely,
            label=LABEL,
            src=reveal_script_src(cfg.server.prefix),
        )

        async def page(request: web.Request) -> web.Response:
            return web.Response(
                text=html, content_type="text/html", headers={"Content-Security-Policy": POLICY}
            )

        expired = ClickTokens(b"b" * 32, -1).sign(view, AVIGNON.phone.e164, "reveal", None)

        async def expired_page(request: web.Request) -> web.Response:
            body = PAGE.format(
                avignon=expired,
                avignon_button=button(expired),
                annecy_button="",
                lonely="x",
                label=LABEL,
                src=reveal_script_src(cfg.server.prefix),
            )
            return web.Response(
                text=body, content_type="text/html", headers={"Content-Security-Policy": POLICY}
            )

        app = web.Application()
        app.router.add_get("/", page)
        app.router.add_get("/expired", expired_page)
        app.add_routes(click_routes(cfg, providers, tokens))
        server = await aiohttp_server(app)
        yield Site(str(server.make_url("/")), sandbox)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def open_page(browser: Any, url: str) -> tuple[Any, list[str]]:
    """A page at `url`, with the console errors and CSP violations it reports."""
    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(url)
    await page.wait_for_load_state("load")
    await page.evaluate(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('csp: ' + e.violatedDirective))"
    )
    return page, problems


async def test_one_click_reveals_every_element_of_the_token(browser: Any, site: Site) -> None:
    page, problems = await open_page(browser, site.url)
    await page.click("#top button")
    await page.wait_for_selector("#top a.dni-number")
    number = await page.inner_text("#top a.dni-number")
    tel = await page.get_attribute("#top a.dni-number", "href")
    assert tel.startswith("tel:+339")
    assert await page.locator("footer a.dni-number").inner_text() == number
    assert await page.get_attribute("#call", "href") == tel
    assert (await page.inner_text("#call")).strip() == number
    assert await page.locator("#call span.icon").count() == 1
    assert await page.get_attribute("#call", "role") is None
    assert await page.locator("[data-dni-token]").count() == 2, "Annecy's stay hidden"
    assert await page.evaluate("document.activeElement.closest('#top') !== null")
    assert (await site.sandbox.requests())["ospClick"] == 1
    assert problems == []


async def test_keyboard_code_and_announcement(browser: Any, site: Site) -> None:
    page, problems = await open_page(browser, site.url)
    await page.focus("#annecy button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#annecy a.dni-number")
    revealed = await page.inner_text("#annecy a.dni-number")
    assert revealed.startswith("08.99.") and "(code " in revealed
    href = await page.get_attribute("#annecy a.dni-number", "href")
    assert href.startswith("tel:+33899") and "," in href

    await page.focus("#lonely")
    await page.keyboard.press(" ")
    await page.wait_for_selector("#lonely[href^='tel:']")
    lonely = await page.inner_text("#lonely")
    assert lonely.startswith("08 99 ")
    await page.wait_for_selector(".dni-live:not(:empty)", state="attached")
    assert await page.inner_text(".dni-live") == lonely
    assert await page.get_attribute(".dni-live", "aria-live") == "polite"
    assert problems == []


async def test_provider_failure_shows_the_original_number(browser: Any, site: Site) -> None:
    await site.sandbox.faults(error_rate=1.0, endpoints=["ospClick"])
    page, problems = await open_page(browser, site.url)
    await page.click("#top button")
    await page.wait_for_selector("#top a.dni-number")
    assert await page.inner_text("#top a.dni-number") == "04 90 26 07 16"
    assert await page.get_attribute("#top a.dni-number", "href") == "tel:+33490260716"
    assert await page.get_attribute("#top a.dni-number", "data-dni-fallback") == ""
    assert problems == []


async def test_refused_token_leaves_the_button(browser: Any, site: Site) -> None:
    page, problems = await open_page(browser, site.url + "expired")
    async with page.expect_response(lambda r: r.url.endswith("/__dni/click")) as answer:
        await page.click("#top button")
    assert (await answer.value).status == 403
    await page.wait_for_selector("#top button:not([aria-busy])")
    assert await page.inner_text("#top button") == LABEL
    assert (await site.sandbox.requests())["ospClick"] == 0
    # The browser logs the refused request itself; nothing else went wrong.
    assert [p for p in problems if "403" not in p] == []
