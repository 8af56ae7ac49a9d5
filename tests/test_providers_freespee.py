"""The Freespee client against the real sandbox on loopback."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from test_providers_setup import (
    SENTINEL_KEY,
    freespee,
    page_view,
    phone_rule,
    rule,
    visitor,
)

from proxy.providers.base import ClickRequest, PageView
from proxy.providers.freespee import SESSION_COOKIE, FreespeeProvider
from proxy.providers.http import ProviderHttp
from rules.config import Parameter
from sandbox.testing import RunningSandbox, running_sandbox

BERLIN = phone_rule("030 15981100", "DE")
MUNICH = phone_rule("089 21090300", "DE")
PARAMETERS = (
    Parameter("custnr", value="C-42"),
    Parameter("campaign", query="utm_campaign"),
    Parameter("custname", cookie="customer"),
    Parameter("lang", header="Accept-Language"),
)
ADS = rule("ads", "freespee", [BERLIN, MUNICH], parameters=PARAMETERS)
REVEAL = rule("reveal", "freespee", [BERLIN], display="click")
PHONES = (BERLIN.phone, MUNICH.phone)
URL = "https://www.example.de/anzeige/17"


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@asynccontextmanager
async def client(
    sandbox: RunningSandbox, secret: str | None = None, **settings: object
) -> AsyncIterator[FreespeeProvider]:
    config = freespee(
        sandbox.freespee_url, secret or sandbox.freespee_secret, sandbox.adv_id, **settings
    )
    async with ProviderHttp() as http:
        yield FreespeeProvider(config, {"ads": ADS, "reveal": REVEAL}, http)


def ads_view(**visitor_settings: Any) -> PageView:
    return page_view(visitor(**visitor_settings), PHONES, rule_name="ads", url=URL)


@pytest.mark.parametrize("sign_in", ["header", "query"])
async def test_view_replaces_german_numbers(sandbox: RunningSandbox, sign_in: str) -> None:
    async with client(sandbox, sign_in=sign_in) as provider:
        result = await provider.view(ads_view())
    assert result.fallback is None
    assert set(result.numbers) == {"+493015981100", "+498921090300"}
    assert all(t.e164.startswith("+49301598") and t.code is None for t in result.numbers.values())
    assert result.visit_id and result.set_cookies == {SESSION_COOKIE: result.visit_id}


async def test_view_sends_the_documented_body(sandbox: RunningSandbox) -> None:
    who = visitor(
        query={"utm_campaign": "spring"},
        cookies={"customer": "Erika Mustermann"},
        headers={"Accept-Language": "de-DE"},
    )
    async with client(sandbox) as provider:
        await provider.view(page_view(who, PHONES, rule_name="ads", url=URL))
    [view] = await sandbox.get("/sandbox/freespee/views")
    assert view["tracking_id"] == who.key
    assert view["type"] == "web"
    assert view["full_url"] == URL
    assert view["full_referrer"] == "https://www.google.com/"
    assert view["user_agent"] == who.user_agent
    assert view["ip"] == "84.72.113.98"
    assert view["numbers"] == "+493015981100,+498921090300"
    assert view["parameters"] == {
        "custnr": "C-42",
        "campaign": "spring",
        "custname": "Erika Mustermann",
        "lang": "de-DE",
    }


async def test_session_is_kept(sandbox: RunningSandbox) -> None:
    async with client(sandbox) as provider:
        first = await provider.view(ads_view())
    async with client(sandbox) as provider:  # a fresh process: only the cookie knows
        again = await provider.view(ads_view(cookies=dict(first.set_cookies)))
        # the same process remembers the visitor's session without the cookie
        third = await provider.view(ads_view())
    assert again.visit_id == third.visit_id == first.visit_id
    assert again.numbers == third.numbers == first.numbers
    assert len(await sandbox.get("/sandbox/freespee/sessions")) == 1


@pytest.mark.parametrize(
    ("ip", "sent"),
    [
        pytest.param("84.72.113.98", "84.72.113.0", id="ipv4"),
        pytest.param("2a01:e0a:1f2:3b40:8d1c:55ff:fe10:1234", "2a01:e0a:1f2::", id="ipv6"),
    ],
)
async def test_ip_anonymisation(sandbox: RunningSandbox, ip: str, sent: str) -> None:
    async with client(sandbox, anonymize_ip=True) as provider:
        result = await provider.view(ads_view(ip=ip))
    assert result.fallback is None
    [view] = await sandbox.get("/sandbox/freespee/views")
    assert view["ip"] == sent


async def test_over_long_request_values_are_dropped(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    name = "N" * 61
    with caplog.at_level(logging.INFO):
        async with client(sandbox) as provider:
            result = await provider.view(ads_view(cookies={"customer": name}))
    assert result.fallback is None, "the page still gets its numbers"
    [view] = await sandbox.get("/sandbox/freespee/views")
    assert "custname" not in view["parameters"]
    assert any(r.getMessage() == "freespee_parameter_dropped" for r in caplog.records)


async def test_click_display_asks_at_click_time(sandbox: RunningSandbox) -> None:
    who = visitor()
    async with client(sandbox) as provider:
        view = await provider.view(
            page_view(who, [BERLIN.phone], rule_name="reveal", display="click")
        )
        assert view.fallback is None and view.numbers == {}
        assert (await sandbox.requests())["freespee"] == 0, "Freespee has no view-only call"
        click = ClickRequest(who, BERLIN.phone, None, view.visit_id, "reveal", url=URL)
        result = await provider.click(click)
    assert result.fallback is None and result.number is not None
    assert result.number.e164.startswith("+49301598")
    [asked] = await sandbox.get("/sandbox/freespee/views")
    assert asked["numbers"] == "+493015981100" and asked["full_url"] == URL


async def test_page_without_phones_costs_no_call(sandbox: RunningSandbox) -> None:
    async with client(sandbox) as provider:
        result = await provider.view(page_view(visitor(), (), rule_name=None))
    assert result.fallback is None
    assert (await sandbox.requests())["freespee"] == 0


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        pytest.param({"latency_ms": 3000}, "timeout", id="latency-beyond-deadline"),
        pytest.param({"hang": True}, "timeout", id="hang"),
        pytest.param({"error_rate": 1.0}, "error", id="system-error"),
        pytest.param({"close": True}, "error", id="closed-connection"),
        pytest.param({"malformed": True}, "bad_response", id="malformed-json"),
        pytest.param({"exhausted": True}, "error", id="no-number-available"),
    ],
)
async def test_faults_fail_open(
    sandbox: RunningSandbox, fault: dict[str, object], reason: str
) -> None:
    await sandbox.faults(**fault)
    async with client(sandbox, timeout=0.3) as provider:
        started = time.perf_counter()
        view = await provider.view(ads_view())
        elapsed = time.perf_counter() - started
        click = await provider.click(
            ClickRequest(visitor(), BERLIN.phone, None, None, "ads", url=URL)
        )
    assert view.fallback == reason and view.numbers == {}
    assert click.fallback == reason and click.number is None
    assert elapsed < 0.3 + 1.0


async def test_breaker_applies_to_freespee(sandbox: RunningSandbox) -> None:
    await sandbox.faults(error_rate=1.0)
    async with client(sandbox, breaker_failures=2) as provider:
        results = [await provider.view(ads_view()) for _ in range(4)]
    assert [r.fallback for r in results] == ["error", "error", "breaker_open", "breaker_open"]
    assert (await sandbox.requests())["freespee"] == 2


async def test_wrong_secret_and_the_secret_never_shows(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with client(sandbox, secret=SENTINEL_KEY) as provider:
            view = await provider.view(ads_view())
            click = await provider.click(ClickRequest(visitor(), BERLIN.phone, None, None, "ads"))
            shown = [repr(provider), repr(view), repr(click)]
    assert view.fallback == "error" and click.fallback == "error"
    assert not [text for text in shown if SENTINEL_KEY in text]
    assert SENTINEL_KEY not in caplog.text
    assert not [r for r in caplog.records if SENTINEL_KEY in repr(getattr(r, "fields", {}))]


async def test_a_refused_request_is_rejected_without_tripping_the_breaker(
    sandbox: RunningSandbox,
) -> None:
    # No usable address to anonymise: Freespee answers 400 (requestIpAddress missing).
    async with client(sandbox, anonymize_ip=True, breaker_failures=1) as provider:
        refused = [await provider.view(ads_view(ip="unknown")) for _ in range(2)]
        fine = await provider.view(ads_view())
    assert [r.fallback for r in refused] == ["rejected"] * 2
    assert fine.fallback is None
