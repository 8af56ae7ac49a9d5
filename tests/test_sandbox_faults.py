"""Injected faults on the provider endpoints, and the request counts other suites rely on."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from sandbox_helpers import Client, freespee_body, sandbox_client

from sandbox import errors
from sandbox.faults import ENDPOINTS
from sandbox.freespee import MSG_NO_NUMBER, MSG_SYSTEM


async def _arrived(osp: Client, endpoint: str, count: int) -> None:
    while (await osp.sandbox.requests())[endpoint] < count:
        await asyncio.sleep(0.01)


async def test_latency_delays_only_the_chosen_endpoints() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(latency_ms=5000, endpoints=["ospView"])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(osp.view(), 0.2)
        click = await osp.click(phone="0490260716")
    assert click.body["status"] == "OK"


async def test_latency_then_answers() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(latency_ms=150)
        started = asyncio.get_running_loop().time()
        reply = await osp.view()
        elapsed = asyncio.get_running_loop().time() - started
    assert reply.body["status"] == "OK"
    assert elapsed >= 0.14


@pytest.mark.parametrize(
    ("rate", "failures"),
    [pytest.param(1.0, 20, id="always"), pytest.param(0.0, 0, id="never")],
)
async def test_error_rate_gives_system_error_with_http_500(rate: float, failures: int) -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(error_rate=rate)
        replies = [await osp.view() for _ in range(20)]
    failed = [r for r in replies if r.status == 500]
    assert len(failed) == failures
    for reply in failed:
        assert reply.body == errors.envelope(errors.SYSTEM_ERROR, errors.MSG_SYSTEM)


async def test_error_rate_half_fails_some_and_is_repeatable() -> None:
    outcomes = []
    for _ in range(2):
        async with sandbox_client() as osp:
            await osp.sandbox.faults(error_rate=0.5)
            outcomes.append([(await osp.view()).status for _ in range(30)])
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(500) < 30


async def test_hang_answers_nothing_until_faults_are_cleared() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(hang=True, endpoints=["ospView"])
        hanging = asyncio.create_task(osp.view())
        await _arrived(osp, "ospView", 1)
        assert not hanging.done()
        await osp.sandbox.clear_faults()
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await hanging
        reply = await osp.view()
    assert reply.body["status"] == "OK"


async def test_a_hanging_request_does_not_hold_up_the_stop() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(hang=True)
        hanging = asyncio.create_task(osp.view())
        await _arrived(osp, "ospView", 1)
    with pytest.raises(aiohttp.ClientConnectionError):
        await hanging


async def test_close_drops_the_connection() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(close=True)
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await osp.view()
        views = await osp.sandbox.get("/sandbox/views")
    assert views == []


async def test_malformed_answers_200_json_that_does_not_parse() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(malformed=True)
        async with osp.http.post(osp.sandbox.url + "/ospView", data={}) as response:
            status, content_type, text = (
                response.status,
                response.content_type,
                await response.text(),
            )
    assert (status, content_type) == (200, "application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_exhausted_makes_every_pool_empty() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(exhausted=True)
        view = await osp.view()
        click = await osp.click(phone="0490260716")
        fs = await osp.freespee(freespee_body(osp.sandbox))
        await osp.sandbox.clear_faults()
        after = await osp.view()
    assert (view.body["status"], view.body["surtaxPhones"]) == ("WARNING", {})
    assert click.body["status"] == "WARNING" and "surtaxPhone" not in click.body
    assert fs.body == {"success": False, "error": MSG_NO_NUMBER}
    assert after.body["status"] == "OK"


@pytest.mark.parametrize(
    ("statuses", "http_status"),
    [pytest.param(False, 200, id="legacy-200"), pytest.param(True, 500, id="x-http-statuses")],
)
async def test_freespee_system_error(statuses: bool, http_status: int) -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.faults(error_rate=1.0, endpoints=["freespee"])
        reply = await osp.freespee(freespee_body(osp.sandbox), statuses=statuses)
        view = await osp.view()
    assert (reply.status, reply.body) == (http_status, {"success": False, "error": MSG_SYSTEM})
    assert view.body["status"] == "OK"


async def test_requests_counts_every_provider_request_and_reset_clears_them() -> None:
    async with sandbox_client() as osp:
        initial = await osp.sandbox.requests()
        await osp.view()
        await osp.view(ip="bad")
        await osp.click(phone="0490260716")
        await osp.sandbox.faults(close=True, endpoints=["ospExpiration"])
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await osp.expiration(surtax_phone="0899123456")
        await osp.freespee(freespee_body(osp.sandbox))
        counts = await osp.sandbox.requests()
        await osp.sandbox.reset()
        after = await osp.sandbox.requests()
        faults = await osp.sandbox.get("/sandbox/faults")
        visits = await osp.sandbox.get("/sandbox/visits")
    assert initial == dict.fromkeys(ENDPOINTS, 0)
    assert counts == {"ospView": 2, "ospClick": 1, "ospExpiration": 1, "freespee": 1}
    assert after == dict.fromkeys(ENDPOINTS, 0)
    assert faults["close"] is False
    assert len(visits) == 2


async def test_reset_with_state_forgets_everything() -> None:
    async with sandbox_client() as osp:
        first = await osp.view()
        await osp.sandbox.reset(state=True)
        again = await osp.view()
        visits = await osp.sandbox.get("/sandbox/visits")
    assert again.body == first.body
    assert len(visits) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {"latency_ms": -1}, "latency_ms: expected an integer >= 0", id="negative-latency"
        ),
        pytest.param(
            {"error_rate": 2}, "error_rate: expected a number between 0 and 1", id="rate-above-one"
        ),
        pytest.param(
            {"hang": "yes"},
            "hang, close, malformed, exhausted: expected true or false",
            id="flag-not-boolean",
        ),
        pytest.param(
            {"endpoints": ["ospNope"]},
            "endpoints: expected a non-empty list of "
            "['ospView', 'ospClick', 'ospExpiration', 'freespee']",
            id="unknown-endpoint",
        ),
        pytest.param(
            {"slow": True},
            "slow: unknown fault; known: ['close', 'endpoints', 'error_rate', 'exhausted', "
            "'hang', 'latency_ms', 'malformed']",
            id="unknown-fault",
        ),
    ],
)
async def test_bad_fault_settings_are_refused(body: dict[str, object], message: str) -> None:
    async with (
        sandbox_client() as osp,
        osp.http.post(osp.sandbox.url + "/sandbox/faults", json=body) as response,
    ):
        status, answer = response.status, await response.json()
    assert (status, answer) == (400, {"error": message})
