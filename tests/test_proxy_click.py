"""Click display end to end: a page with reveal buttons, then the click endpoint behind them."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import pytest
from factories import html_page
from harness import Harness, running_proxy, running_site, sentinel_sandbox

CONTACT = html_page("<h1>Contact</h1><p>Appelez le 04 90 26 07 16</p><p>ou le 01 85 08 37 37</p>")
TOKEN = re.compile(rb'data-dni-token="([^"]+)"')


async def tokens_on_contact(proxy: Harness) -> list[str]:
    proxy.site.page("/contact", CONTACT)
    status, _, body = await proxy.get("/contact")
    assert status == 200
    assert b"04 90 26 07 16" not in body and b"/__dni/reveal.js?v=" in body
    found = [t.decode() for t in TOKEN.findall(body)]
    assert len(set(found)) == 2
    return found


async def click(proxy: Harness, token: str) -> tuple[int, dict[str, Any]]:
    async with proxy.client.post(proxy.at("/__dni/click"), data={"token": token}) as response:
        return response.status, await response.json()


async def clicks(sandbox: Any) -> int:
    return int((await sandbox.requests())["ospClick"])


async def test_a_valid_token_reveals_the_tracking_number() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        token, *_ = await tokens_on_contact(proxy)
        status, answer = await click(proxy, token)
        assert status == 200, answer
        assert answer["fallback"] is False
        digits = re.sub(r"\D", "", answer["number"])
        assert len(digits) == 10 and digits != "0490260716"
        assert answer["tel"] == "tel:+33" + digits[1:]
        assert await clicks(sandbox) == 1
        assert (await click(proxy, token))[1]["number"] == answer["number"]
        assert await clicks(sandbox) == 1


def altered(token: str) -> str:
    payload, mac = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[raw.index(b"+33") + 3] ^= 1  # another phone number, same shape
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda t: "A" * 40 + "." + "B" * 22, id="forged"),
        pytest.param(altered, id="altered-payload"),
        pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="bad-mac"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
async def test_bad_tokens_get_403_and_cost_no_call(forge: Any) -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        token, *_ = await tokens_on_contact(proxy)
        status, answer = await click(proxy, forge(token))
        assert (status, answer) == (403, {"error": "invalid_token"})
        assert await clicks(sandbox) == 0


async def test_an_expired_token_gets_403() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, token_ttl="1s") as proxy,
    ):
        token, *_ = await tokens_on_contact(proxy)
        await asyncio.sleep(2.1)
        assert (await click(proxy, token))[0] == 403
        assert await clicks(sandbox) == 0


async def test_clicks_over_the_rate_get_429() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox, click_rate_per_ip=2) as proxy,
    ):
        first, second = (await tokens_on_contact(proxy))[:2]
        assert (await click(proxy, first))[0] == 200
        assert (await click(proxy, second))[0] == 200
        status, answer = await click(proxy, first)
        assert (status, answer) == (429, {"error": "rate_limited"})
        assert await clicks(sandbox) == 2


async def test_provider_failure_reveals_the_original_number() -> None:
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        token, *_ = await tokens_on_contact(proxy)
        await sandbox.faults(error_rate=1.0, endpoints=["ospClick"])
        status, answer = await click(proxy, token)
        assert status == 200
        assert answer["fallback"] is True
        assert answer["number"] == "04 90 26 07 16"
        assert answer["tel"] == "tel:+33490260716"
