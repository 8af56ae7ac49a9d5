"""Freespee through the whole proxy: real upstream, real sandbox, real client, on loopback.

German numbers written the German ways, the Freespee session kept across views, click
display, provider faults, Optico and Freespee side by side, the signature and the
visitor's address sent anonymised.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from factories import html_page
from harness import Harness, running_proxy, running_site
from yarl import URL

from proxy.providers.freespee import SESSION_COOKIE
from rules.config import Config, load_config
from sandbox.freespee import MSG_BAD_SIGNATURE, MSG_NO_NUMBER, MSG_SYSTEM
from sandbox.testing import RunningSandbox, running_sandbox

SECRET_ENV = "DNI_TEST_FREESPEE_SECRET"
OPTICO_KEY_ENV = "DNI_TEST_OPTICO_KEY"
WRONG_SECRET = "freespee-wrong-secret"

SERVER = """
[server]
listen = "127.0.0.1:0"
upstream = "{upstream}"
trusted_proxies = ["127.0.0.1/32"]

[rewrite]
region = "{region}"
"""
FREESPEE = """
[providers.freespee]
kind = "freespee"
url = "{freespee_url}"
adv_id = "{adv_id}"
secret_env = "{secret_env}"
sign_in = "{sign_in}"
anonymize_ip = {anonymize}
timeout = "{timeout}"

[[rules]]
name = "kontakt"
paths = ["/kontakt"]
provider = "freespee"
display = "click"
phones = ["{hamburg}"]

[[rules]]
name = "anzeigen"
paths = ["/anzeige/**"]
provider = "freespee"
phones = ["{hamburg}", "{town_hall}"]
"""
OPTICO = """
[providers.optico]
kind = "optico"
url = "{optico_url}"
api_key_env = "{optico_key_env}"
timeout = "{timeout}"

[[rules]]
name = "site"
paths = ["/page/**"]
provider = "optico"
phones = ["+33 4 90 26 07 16"]
"""

# Hamburg, as the config may write it: internationally (read the same in any region) or
# nationally under region DE.
HAMBURG = {"FR": "+49 40 21091730", "DE": "040 21091730"}
TOWN_HALL = {"FR": "+49 40 428230", "DE": "040 428230"}
"""Two digits shorter than the sandbox's Berlin numbers: written anew, not digit for digit."""

GERMAN = html_page(
    "<p>Zentrale: 040 / 210 91 73 0</p>"
    "<p>Aus dem Ausland: +49 (0)40 21091730</p>"
    "<p>Vertrieb: 040-21091730</p>"
    '<p><a href="tel:+494021091730">Jetzt anrufen</a></p>'
    "<p>Rathaus: 040-428230</p>",
    title="Anzeige",
)
FRENCH = html_page("<p>Tél : 04 90 26 07 16</p>", title="Page")
TOKEN = re.compile(rb'data-dni-token="([^"]+)"')
DEADLINE = 0.3
MARGIN = 1.0


def config_text(
    upstream: str,
    sandbox: RunningSandbox,
    *,
    region: str = "FR",
    sign_in: str = "header",
    anonymize: bool = False,
    timeout: str = "1500ms",
    optico: bool = False,
) -> str:
    values = {
        "upstream": upstream,
        "region": region,
        "freespee_url": sandbox.freespee_url,
        "adv_id": sandbox.adv_id,
        "secret_env": SECRET_ENV,
        "sign_in": sign_in,
        "anonymize": str(anonymize).lower(),
        "timeout": timeout,
        "hamburg": HAMBURG[region],
        "town_hall": TOWN_HALL[region],
        "optico_url": sandbox.url,
        "optico_key_env": OPTICO_KEY_ENV,
    }
    sections = (SERVER, FREESPEE, OPTICO) if optico else (SERVER, FREESPEE)
    return "".join(section.format(**values) for section in sections)


@asynccontextmanager
async def freespee_proxy(
    *, secret: str | None = None, **settings: Any
) -> AsyncIterator[tuple[Harness, RunningSandbox]]:
    """The sandbox, the site serving `GERMAN` under /anzeige/ and /kontakt, the proxy."""
    async with running_sandbox() as sandbox, running_site() as site:
        secret = secret or sandbox.freespee_secret
        environ = {SECRET_ENV: secret, OPTICO_KEY_ENV: sandbox.api_key}
        text = config_text(site.url, sandbox, **settings)
        config: Config = load_config(text, source="test.toml", environ=environ)
        site.page("/anzeige/17", GERMAN)
        site.page("/anzeige/18", GERMAN.replace("Anzeige", "Noch eine Anzeige"))
        site.page("/kontakt", GERMAN)
        site.page("/page/a", FRENCH)
        async with running_proxy(site, sandbox=sandbox, config=config, api_key=secret) as proxy:
            yield proxy, sandbox


async def page(proxy: Harness, path: str, **kwargs: Any) -> str:
    status, _, body = await proxy.get(path, **kwargs)
    assert status == 200
    return body.decode("utf-8")


async def tracking_numbers(sandbox: RunningSandbox) -> dict[str, str]:
    """The sandbox's live assignments: number on the page (E.164) -> tracking E.164."""
    rows = await sandbox.get("/sandbox/freespee/assignments")
    return {row["number_on_page"]: row["e164"] for row in rows}


def national(e164: str) -> str:
    """+493015981699 -> 03015981699: German national digits."""
    assert e164.startswith("+49"), e164
    return "0" + e164[3:]


def written_as_on_the_page(hamburg: str, town_hall: str) -> str:
    """`GERMAN` with the tracking numbers written each way the page writes its originals."""
    n = national(hamburg)
    return html_page(
        f"<p>Zentrale: {n[:3]} / {n[3:6]} {n[6:8]} {n[8:10]} {n[10:]}</p>"
        f"<p>Aus dem Ausland: +49 (0){n[1:3]} {n[3:]}</p>"
        f"<p>Vertrieb: {n[:3]}-{n[3:]}</p>"
        f'<p><a href="tel:{hamburg}">Jetzt anrufen</a></p>'
        # phonenumbers writes Berlin as "030 15981699": its groups, the page's hyphen.
        f"<p>Rathaus: {national(town_hall)[:3]}-{national(town_hall)[3:]}</p>",
        title="Anzeige",
    )


async def freespee_views(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    views: list[dict[str, Any]] = await sandbox.get("/sandbox/freespee/views")
    return views


def fallback_events(proxy: Harness) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proxy.logs.lines if '"provider_fallback"' in line]


@pytest.mark.parametrize("region", ["FR", "DE"], ids=["written-internationally", "region-de"])
async def test_german_numbers_come_back_written_as_the_page_writes_them(region: str) -> None:
    async with freespee_proxy(region=region) as (proxy, sandbox):
        body = await page(proxy, "/anzeige/17")
        numbers = await tracking_numbers(sandbox)
    assert set(numbers) == {"+494021091730", "+4940428230"}
    assert all(n.startswith("+49301598") for n in numbers.values())
    assert body == written_as_on_the_page(numbers["+494021091730"], numbers["+4940428230"])


async def test_the_session_carries_the_same_numbers_to_the_next_view() -> None:
    async with freespee_proxy() as (proxy, sandbox):
        first = await page(proxy, "/anzeige/17")
        kept = proxy.client.cookie_jar.filter_cookies(URL(proxy.url))[SESSION_COOKIE].value
        second = await page(proxy, "/anzeige/18")
        sessions = await sandbox.get("/sandbox/freespee/sessions")
        views = await freespee_views(sandbox)
    [session] = sessions
    assert kept == session["session_id"]
    assert [v["session_id"] for v in views] == [session["session_id"]] * 2
    assert [v["tracking_id"] for v in views] == [session["tracking_id"]] * 2
    assert second == first.replace("<title>Anzeige", "<title>Noch eine Anzeige")


async def reveal(proxy: Harness, token: str) -> dict[str, Any]:
    async with proxy.client.post(proxy.at("/__dni/click"), data={"token": token}) as response:
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
        return answer


async def test_a_reveal_click_asks_freespee_for_the_number_at_click_time() -> None:
    async with freespee_proxy() as (proxy, sandbox):
        body = (await page(proxy, "/kontakt")).encode()
        assert b"210 91 73" not in body and b"/__dni/reveal.js?v=" in body
        assert (await sandbox.requests())["freespee"] == 0
        token = TOKEN.findall(body)[0].decode()
        answers = [await reveal(proxy, token) for _ in range(2)]
        assert (await sandbox.requests())["freespee"] == 1, "a token answers again for free"
        numbers = await tracking_numbers(sandbox)
        # The reveal's session goes on: the same visitor's next page shows the same number.
        later = await page(proxy, "/anzeige/17")
        [asked, *_] = views = await freespee_views(sandbox)
    hamburg = numbers["+494021091730"]
    n = national(hamburg)
    written = f"{n[:3]} / {n[3:6]} {n[6:8]} {n[8:10]} {n[10:]}"
    expected = {"number": written, "tel": f"tel:{hamburg}", "code": None, "fallback": False}
    assert answers == [expected, expected]
    assert asked["numbers"] == "+494021091730"
    assert [v["session_id"] for v in views] == [asked["session_id"]] * 2
    assert f'href="tel:{hamburg}"' in later


FAULTS = [
    pytest.param({"latency_ms": 2000}, "timeout", "deadline passed", id="latency-beyond-deadline"),
    pytest.param({"error_rate": 1.0}, "error", f"HTTP 500: {MSG_SYSTEM}", id="error-status"),
    pytest.param({"hang": True}, "timeout", "deadline passed", id="hang"),
    pytest.param(
        {"close": True}, "error", "connection closed before an answer", id="closed-connection"
    ),
    pytest.param({"malformed": True}, "bad_response", "JSONDecodeError", id="malformed-json"),
    pytest.param({"exhausted": True}, "error", f"HTTP 500: {MSG_NO_NUMBER}", id="no-number-left"),
]


@pytest.mark.parametrize(("fault", "reason", "detail"), FAULTS)
async def test_provider_faults_serve_the_original_numbers_on_time(
    fault: dict[str, Any], reason: str, detail: str
) -> None:
    async with freespee_proxy(timeout=f"{DEADLINE}s") as (proxy, sandbox):
        await sandbox.faults(**fault)
        for _ in range(2):
            started = time.monotonic()
            body = await page(proxy, "/anzeige/17")
            assert time.monotonic() - started < DEADLINE + MARGIN
            assert body == GERMAN
        await sandbox.clear_faults()
        lines = [json.loads(line) for line in proxy.lines_about("/anzeige/17")]
        events = fallback_events(proxy)
    assert [line["reason"] for line in lines] == [f"provider_{reason}"] * 2
    assert [(e["reason"], e["detail"]) for e in events] == [(reason, f"freespee: {detail}")] * 2


async def test_optico_and_freespee_pages_each_get_numbers_from_their_own_provider() -> None:
    async with freespee_proxy(optico=True) as (proxy, sandbox):
        german = await page(proxy, "/anzeige/17")
        french = await page(proxy, "/page/a")
        counts = await sandbox.requests()
        numbers = await tracking_numbers(sandbox)
    assert counts == {"ospView": 1, "ospClick": 0, "ospExpiration": 0, "freespee": 1}
    assert german == written_as_on_the_page(numbers["+494021091730"], numbers["+4940428230"])
    assert re.search(r"<p>Tél : 09( \d\d){4}</p>", french), "Optico's default pool: 09"


async def test_a_wrong_secret_serves_the_original_numbers_and_the_log_says_why() -> None:
    async with freespee_proxy(secret=WRONG_SECRET) as (proxy, sandbox):
        body = await page(proxy, "/anzeige/17")
        lines = [json.loads(line) for line in proxy.lines_about("/anzeige/17")]
        events = fallback_events(proxy)
        assert await tracking_numbers(sandbox) == {}
    assert body == GERMAN
    assert [(line["outcome"], line["reason"]) for line in lines] == [("fallback", "provider_error")]
    assert [event["detail"] for event in events] == [f"freespee: HTTP 403: {MSG_BAD_SIGNATURE}"]


async def test_the_signature_may_travel_in_the_query() -> None:
    async with freespee_proxy(sign_in="query") as (proxy, sandbox):
        body = await page(proxy, "/anzeige/17")
        numbers = await tracking_numbers(sandbox)
    assert body == written_as_on_the_page(numbers["+494021091730"], numbers["+4940428230"])


ADDRESSES = [
    pytest.param(True, "84.72.113.98", "84.72.113.0", id="ipv4-anonymised"),
    pytest.param(True, "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::", id="ipv6"),
    pytest.param(False, "84.72.113.98", "84.72.113.98", id="ipv4-as-is"),
]


@pytest.mark.parametrize(("anonymize", "client", "recorded"), ADDRESSES)
async def test_the_visitor_address_reaches_freespee_anonymised_when_configured(
    anonymize: bool, client: str, recorded: str
) -> None:
    async with freespee_proxy(anonymize=anonymize) as (proxy, sandbox):
        await page(proxy, "/anzeige/17", headers={"X-Forwarded-For": client})
        [view] = await freespee_views(sandbox)
    assert view["ip"] == recorded
