"""What a browser does with proxied pages: headless Chromium through the real proxy and sandbox."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from factories import html_page
from harness import BROWSER_UA, running_proxy, running_site, sentinel_sandbox

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing (apt-get install chromium)",
    ),
]
ORIGINAL = "04 90 26 07 16"
HOME = html_page(f'<h1>Accueil</h1><p id="tel">Tél : {ORIGINAL}</p>')
CONTACT = html_page(
    '<h1>Contact</h1><p id="first">Appelez le '
    f'<a href="tel:+33490260716">{ORIGINAL}</a></p><p id="second">ou le 01 85 08 37 37</p>'
)
CSP = "script-src 'self'"


@asynccontextmanager
async def chromium(java_script: bool = True) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # Headless Chromium names itself HeadlessChrome, which the crawler list knows.
        context = await browser.new_context(java_script_enabled=java_script, user_agent=BROWSER_UA)
        try:
            yield await context.new_page()
        finally:
            await context.close()
            await browser.close()


async def test_direct_display_without_javascript_shows_the_tracking_number() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
        chromium(java_script=False) as page,
    ):
        site.page("/page/home", HOME, encoding="gzip")
        await page.goto(proxy.at("/page/home"))
        text = await page.inner_text("#tel")
    number = re.fullmatch(r"Tél : (\d\d \d\d \d\d \d\d \d\d)", text)
    assert number is not None and number[1] != ORIGINAL


async def test_click_display_under_csp_reveals_a_tel_link() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
        chromium() as page,
    ):
        site.page("/contact", CONTACT, headers={"Content-Security-Policy": CSP})
        site.page("/favicon.ico", b"\0", content_type="image/x-icon")
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        await page.goto(proxy.at("/contact"))
        await page.evaluate(
            "document.addEventListener('securitypolicyviolation',"
            " e => console.error('CSP violation ' + e.violatedDirective))"
        )
        assert ORIGINAL not in await page.inner_text("body")
        await page.click("#second [data-dni-token]")
        link = page.locator('#second a[href^="tel:"]')
        await link.wait_for(timeout=5000)
        shown = await link.inner_text()
        href = await link.get_attribute("href")
        await page.click("#first [data-dni-token]")
        first = page.locator('#first a[href^="tel:+33"]')
        await first.wait_for(timeout=5000)
        first_text = await first.inner_text()
        assert (await sandbox.requests())["ospClick"] == 2
    digits = re.sub(r"\D", "", shown)
    assert len(digits) == 10 and digits != "0185083737"
    assert href == "tel:+33" + digits[1:]
    assert re.fullmatch(r"\d\d \d\d \d\d \d\d \d\d", first_text) and first_text != ORIGINAL
    assert not [line for line in console if "Content Security Policy" in line or "CSP" in line]
    assert not [line for line in console if line.startswith("error")]
