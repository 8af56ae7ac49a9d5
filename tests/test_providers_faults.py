"""Failing open: every sandbox fault, the breaker, the concurrency cap, the key never shown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from test_providers_setup import SENTINEL_KEY, optico, page_view, phone_rule, rule, visitor

from proxy.metrics import REGISTRY
from proxy.providers.base import ClickRequest
from proxy.providers.http import ProviderHttp
from proxy.providers.optico import OpticoProvider
from sandbox.testing import RunningSandbox, demo_settings, running_sandbox

AVIGNON = phone_rule("04 90 26 07 16")
ANNECY = phone_rule("04 50 98 27 56", type=5)
CONTACT = rule("contact", "optico", [AVIGNON, ANNECY])
PHONES = (AVIGNON.phone, ANNECY.phone)
DEADLINE = 0.3
MARGIN = 1.0
"""Generous: the bound under test is "about the deadline", on a shared 2-core box."""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@asynccontextmanager
async def client(
    url: str, api_key: str, *, clock: Clock | None = None, **settings: object
) -> AsyncIterator[OpticoProvider]:
    config = optico(url, api_key, timeout=DEADLINE, **settings)
    async with ProviderHttp() as http:
        yield OpticoProvider(
            config, {"contact": CONTACT}, http, region="FR", clock=clock or Clock()
        )


FAULTS = [
    pytest.param({"latency_ms": 3000}, "timeout", id="latency-beyond-deadline"),
    pytest.param({"hang": True}, "timeout", id="hang"),
    pytest.param({"error_rate": 1.0}, "error", id="system-error"),
    pytest.param({"close": True}, "error", id="closed-connection"),
    pytest.param({"malformed": True}, "bad_response", id="malformed-json"),
]


@pytest.mark.parametrize(("fault", "reason"), FAULTS)
async def test_view_fails_open_within_the_deadline(
    sandbox: RunningSandbox, fault: dict[str, object], reason: str
) -> None:
    await sandbox.faults(**fault)
    async with client(sandbox.url, sandbox.api_key) as provider:
        started = time.perf_counter()
        result = await provider.view(page_view(visitor(), PHONES))
        elapsed = time.perf_counter() - started
    assert result.fallback == reason
    assert result.numbers == {}
    assert elapsed < DEADLINE + MARGIN


@pytest.mark.parametrize(("fault", "reason"), FAULTS)
async def test_click_fails_open(
    sandbox: RunningSandbox, fault: dict[str, object], reason: str
) -> None:
    await sandbox.faults(**fault)
    async with client(sandbox.url, sandbox.api_key) as provider:
        result = await provider.click(ClickRequest(visitor(), AVIGNON.phone, None, None, "contact"))
    assert result.number is None and result.fallback == reason


async def test_exhausted_pools_answer_warning_and_keep_the_visit(sandbox: RunningSandbox) -> None:
    await sandbox.faults(exhausted=True)
    async with client(sandbox.url, sandbox.api_key) as provider:
        view = await provider.view(page_view(visitor(), PHONES))
        click = await provider.click(ClickRequest(visitor(), AVIGNON.phone, None, None, "contact"))
    assert view.fallback == "warning" and view.numbers == {}
    assert view.visit_id is not None and view.set_cookies
    assert click.number is None and click.fallback == "warning"


async def test_warning_keeps_the_numbers_that_were_assigned() -> None:
    async with (
        running_sandbox(settings=demo_settings({3: 1, 5: 100})) as sandbox,
        client(sandbox.url, sandbox.api_key) as provider,
    ):
        first = await provider.view(page_view(visitor("1" * 32), PHONES))
        second = await provider.view(page_view(visitor("2" * 32), PHONES))
    assert first.fallback is None and len(first.numbers) == 2
    assert second.fallback == "warning"
    assert set(second.numbers) == {ANNECY.phone.e164}, "the 0899 pool still had numbers"


async def test_authentication_error(sandbox: RunningSandbox) -> None:
    async with client(sandbox.url, "osp_test_wrong_key") as provider:
        result = await provider.view(page_view(visitor(), PHONES))
    assert result.fallback == "error"


async def test_provider_unreachable() -> None:
    async with client("http://127.0.0.1:9", "osp_test_key") as provider:
        result = await provider.view(page_view(visitor(), PHONES))
    assert result.fallback == "error"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_breaker_opens_then_probes_after_the_cooldown(sandbox: RunningSandbox) -> None:
    clock = Clock()
    name = "optico-breaker"
    settings = {"name": name, "breaker_failures": 3, "breaker_cooldown": 10.0}
    await sandbox.faults(error_rate=1.0)
    async with client(sandbox.url, sandbox.api_key, clock=clock, **settings) as provider:
        failures = [await provider.view(page_view(visitor(), PHONES)) for _ in range(3)]
        assert [r.fallback for r in failures] == ["error"] * 3
        assert _sample("dni_breaker_state", provider=name) == 2

        refused = [await provider.view(page_view(visitor(), PHONES)) for _ in range(5)]
        assert [r.fallback for r in refused] == ["breaker_open"] * 5
        assert (await sandbox.requests())["ospView"] == 3, "no call while open"

        await sandbox.clear_faults()
        clock.now += 9.9
        assert (await provider.view(page_view(visitor(), PHONES))).fallback == "breaker_open"
        clock.now += 0.1
        probe = await provider.view(page_view(visitor(), PHONES))
        assert probe.fallback is None and len(probe.numbers) == 2
        assert (await sandbox.requests())["ospView"] == 4
        assert _sample("dni_breaker_state", provider=name) == 0
        assert (await provider.view(page_view(visitor(), PHONES))).fallback is None
    labels = {"provider": name, "endpoint": "ospView"}
    assert _sample("dni_provider_calls_total", status="breaker_open", **labels) == 6
    assert _sample("dni_provider_calls_total", status="error", **labels) == 3
    assert _sample("dni_provider_calls_total", status="ok", **labels) == 2


async def test_half_open_lets_one_probe_through(sandbox: RunningSandbox) -> None:
    clock = Clock()
    settings = {"breaker_failures": 1, "breaker_cooldown": 5.0}
    await sandbox.faults(close=True)
    async with client(sandbox.url, sandbox.api_key, clock=clock, **settings) as provider:
        assert (await provider.view(page_view(visitor(), PHONES))).fallback == "error"
        await sandbox.faults(latency_ms=150)
        clock.now += 5
        probe = asyncio.create_task(provider.view(page_view(visitor("1" * 32), PHONES)))
        await asyncio.sleep(0.05)
        during = await provider.view(page_view(visitor("2" * 32), PHONES))
        assert during.fallback == "breaker_open"
        assert (await probe).fallback is None
    assert (await sandbox.requests())["ospView"] == 2


async def test_breaker_stays_closed_on_warnings(sandbox: RunningSandbox) -> None:
    await sandbox.faults(exhausted=True)
    async with client(sandbox.url, sandbox.api_key, breaker_failures=1) as provider:
        results = [await provider.view(page_view(visitor(), PHONES)) for _ in range(3)]
    assert [r.fallback for r in results] == ["warning"] * 3
    assert (await sandbox.requests())["ospView"] == 3


async def test_concurrency_cap_refuses_at_once(sandbox: RunningSandbox) -> None:
    await sandbox.faults(latency_ms=150)
    async with client(sandbox.url, sandbox.api_key, max_concurrency=2) as provider:
        views = [page_view(visitor(f"{i:032x}"), PHONES) for i in range(6)]
        tasks = [asyncio.create_task(provider.view(v)) for v in views]
        await asyncio.sleep(0.05)
        refused_early = [t.result().fallback for t in tasks if t.done()]
        results = await asyncio.gather(*tasks)
    assert refused_early == ["overloaded"] * 4, "refused without waiting for a slot"
    assert sorted(str(r.fallback) for r in results) == ["None"] * 2 + ["overloaded"] * 4
    assert (await sandbox.requests())["ospView"] == 2


@pytest.mark.parametrize(
    "fault",
    [{}, {"close": True}, {"malformed": True}, {"error_rate": 1.0}, {"latency_ms": 3000}],
    ids=["auth-error", "close", "malformed", "system-error", "timeout"],
)
async def test_the_key_never_shows(
    sandbox: RunningSandbox, fault: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    await sandbox.faults(**fault)
    with caplog.at_level(logging.DEBUG):
        async with client(sandbox.url, SENTINEL_KEY) as provider:
            view = await provider.view(page_view(visitor(), PHONES))
            click = await provider.click(ClickRequest(visitor(), AVIGNON.phone, "1", "1", None))
            shown = [repr(provider), str(provider), repr(view), repr(click)]
    assert view.fallback and click.fallback
    logged = [r.getMessage() + repr(getattr(r, "fields", {})) for r in caplog.records]
    assert not [text for text in shown + logged if SENTINEL_KEY in text]
    assert SENTINEL_KEY not in caplog.text


async def test_rejected_request_does_not_trip_the_breaker(sandbox: RunningSandbox) -> None:
    async with client(sandbox.url, sandbox.api_key, breaker_failures=1) as provider:
        unknown_view = ClickRequest(visitor(), AVIGNON.phone, "987654", None, "contact")
        results = [await provider.click(unknown_view) for _ in range(3)]
        after = await provider.view(page_view(visitor(), PHONES))
    assert [r.fallback for r in results] == ["rejected"] * 3
    assert after.fallback is None
    assert (await sandbox.requests())["ospClick"] == 3
