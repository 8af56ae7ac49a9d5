"""The Optico client against the real sandbox on loopback: views, clicks, visit continuity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import pytest
from test_providers_setup import PIXEL, optico, page_view, phone_rule, rule, visitor

from proxy.providers.base import ClickRequest, Visitor
from proxy.providers.http import ProviderHttp
from proxy.providers.optico import VISIT_COOKIE, OpticoProvider
from rules.config import Rule
from sandbox.testing import RunningSandbox, running_sandbox

AVIGNON = phone_rule("04 90 26 07 16")
ANNECY = phone_rule("04 50 98 27 56", type=5, client_data="agence-annecy")
CONTACT = rule("contact", "optico", [AVIGNON, ANNECY], expiration=600)
REVEAL = rule("reveal", "optico", [AVIGNON], display="click")
PHONES = (AVIGNON.phone, ANNECY.phone)


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@asynccontextmanager
async def client(
    sandbox: RunningSandbox, rules: Iterable[Rule] = (CONTACT, REVEAL), **settings: object
) -> AsyncIterator[OpticoProvider]:
    config = optico(sandbox.url, sandbox.api_key, **settings)
    async with ProviderHttp() as http:
        yield OpticoProvider(config, {r.name: r for r in rules}, http, region="FR")


async def test_direct_view_assigns_every_phone(sandbox: RunningSandbox) -> None:
    who = visitor(user_agent=PIXEL)
    async with client(sandbox) as provider:
        result = await provider.view(page_view(who, PHONES))
    assert result.fallback is None
    assert set(result.numbers) == {"+33490260716", "+33450982756"}
    plain, shared = result.numbers["+33490260716"], result.numbers["+33450982756"]
    assert plain.e164.startswith("+339") and plain.code is None  # type 3: 09
    assert shared.e164.startswith("+33899") and shared.code  # type 5: 0899 with a code
    assert result.visit_id is not None and result.view_id is not None
    assert result.set_cookies == {VISIT_COOKIE: result.visit_id}
    assert (await sandbox.requests())["ospView"] == 1


async def test_view_sends_what_the_document_asks(sandbox: RunningSandbox) -> None:
    who = visitor(user_agent=PIXEL)
    async with client(sandbox) as provider:
        await provider.view(page_view(who, PHONES))
    [view] = await sandbox.get("/sandbox/views")
    assert view["url"] == "https://www.example.fr/contact"
    assert view["page_title"] == "Contact"
    assert view["referer_url"] == "https://www.google.com/"
    assert view["ip"] == "84.72.113.98"
    assert view["is_mobile"] is True
    assert view["user_agent"] == PIXEL
    assert view["direct_display"] is True
    assert view["nr_phones"] == 2
    assert view["phones"] == "0490260716:3,0450982756:5"
    assert view["unique_visitor_id"] == who.key
    assignments = {a["phone"]: a for a in await sandbox.get("/sandbox/assignments")}
    assert assignments["0450982756"]["client_data"] == "agence-annecy"
    assert assignments["0490260716"]["client_data"] is None


async def test_rule_expiration_is_sent(sandbox: RunningSandbox) -> None:
    async with client(sandbox) as provider:
        await provider.view(page_view(visitor(), PHONES))
    [first, _] = await sandbox.get("/sandbox/assignments")
    assert first["expires_at"] > first["assigned_at"]
    held = sandbox.state.store.rows("assignments", {}, None)[0]
    assert held["expires_at"] - held["assigned_at"] == pytest.approx(600)


async def test_page_without_phones_is_recorded(sandbox: RunningSandbox) -> None:
    async with client(sandbox) as provider:
        result = await provider.view(page_view(visitor(), (), rule_name=None))
    assert result.fallback is None and result.numbers == {}
    assert result.set_cookies == {VISIT_COOKIE: result.visit_id}
    [view] = await sandbox.get("/sandbox/views")
    assert view["nr_phones"] == 0 and view["phones"] == ""


async def test_click_display_view_then_click(sandbox: RunningSandbox) -> None:
    who = visitor()
    async with client(sandbox) as provider:
        view = await provider.view(
            page_view(who, [AVIGNON.phone], rule_name="reveal", display="click")
        )
        assert view.fallback is None and view.numbers == {} and view.view_id is not None
        click = ClickRequest(who, AVIGNON.phone, view.view_id, view.visit_id, "reveal")
        first = await provider.click(click)
        again = await provider.click(click)
    assert first.fallback is None and first.number is not None
    assert first.number.e164.startswith("+339")
    assert again.number == first.number, "a visit keeps its number"
    [view_row] = await sandbox.get("/sandbox/views")
    assert view_row["direct_display"] is False and view_row["nr_phones"] == 1
    clicks = await sandbox.get("/sandbox/clicks")
    assert [c["view_id"] for c in clicks] == [int(view.view_id)] * 2
    assert (await sandbox.requests())["ospClick"] == 2


async def test_click_without_a_view(sandbox: RunningSandbox) -> None:
    async with client(sandbox) as provider:
        result = await provider.click(ClickRequest(visitor(), ANNECY.phone, None, None, "contact"))
    assert result.number is not None and result.number.code
    [click] = await sandbox.get("/sandbox/clicks")
    assert click["view_id"] is None and click["type_id"] == 5


def _with_cookies(who: Visitor, cookies: dict[str, str]) -> Visitor:
    return visitor(who.key, cookies={**who.cookies, **cookies})


async def test_visit_continues_through_the_cookie(sandbox: RunningSandbox) -> None:
    who = visitor()
    async with client(sandbox) as provider:
        first = await provider.view(page_view(who, PHONES))
        # Another process (or a restarted proxy) only knows the cookie.
    async with client(sandbox) as provider:
        second = await provider.view(page_view(_with_cookies(who, dict(first.set_cookies)), PHONES))
    assert second.visit_id == first.visit_id
    assert second.numbers == first.numbers


@pytest.mark.parametrize("cookie", ["", "abc", "-3", "0", "1e3", "99999999999999999999999"])
async def test_unusable_visit_cookie_starts_a_visit(sandbox: RunningSandbox, cookie: str) -> None:
    async with client(sandbox) as provider:
        result = await provider.view(page_view(visitor(cookies={VISIT_COOKIE: cookie}), PHONES))
    assert result.fallback is None
    [visit] = await sandbox.get("/sandbox/visits")
    assert result.visit_id == str(visit["id"])


async def test_background_first_view_feeds_the_next(sandbox: RunningSandbox) -> None:
    """A first page without phone is recorded off the critical path; the next page,
    which arrives without the cookie, stays in the same visit."""
    who = visitor()
    async with client(sandbox) as provider:
        background = asyncio.create_task(provider.view(page_view(who, (), rule_name=None)))
        await background
        second = await provider.view(page_view(who, PHONES))
        third = await provider.view(page_view(who, (), rule_name=None))
    assert background.result().visit_id == second.visit_id == third.visit_id
    assert len(await sandbox.get("/sandbox/visits")) == 1


async def test_view_racing_an_unfinished_first_view_joins_its_visit(
    sandbox: RunningSandbox,
) -> None:
    who = visitor()
    await sandbox.faults(latency_ms=150, endpoints=["ospView"])
    async with client(sandbox) as provider:
        first = asyncio.create_task(provider.view(page_view(who, (), rule_name=None)))
        await asyncio.sleep(0.02)
        second = await provider.view(page_view(who, PHONES))
    assert first.result().visit_id == second.visit_id
    assert len(await sandbox.get("/sandbox/visits")) == 1


async def test_visitors_do_not_share_visits(sandbox: RunningSandbox) -> None:
    async with client(sandbox) as provider:
        one = await provider.view(page_view(visitor("1" * 32), PHONES))
        two = await provider.view(page_view(visitor("2" * 32), PHONES))
    assert one.visit_id != two.visit_id
    assert one.numbers["+33490260716"] != two.numbers["+33490260716"]
