"""POST {prefix}/click on a small aiohttp app, with the Optico client and the real sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from test_providers_setup import config, freespee, optico, page_view, phone_rule, rule, visitor

from proxy.click import ClickTokens, click_routes
from proxy.forwarded import CLIENT_IP
from proxy.metrics import REGISTRY
from proxy.providers import build_providers
from proxy.providers.base import ViewResult
from proxy.providers.http import ProviderHttp
from sandbox.testing import RunningSandbox, running_sandbox

SAMPLE = "04 90 26 07 16"
AVIGNON = phone_rule(SAMPLE)
ANNECY = phone_rule("04.50.98.27.56", type=5)
REVEAL = rule("reveal", "optico", [AVIGNON, ANNECY], display="click")
SECRET = b"t" * 32
CLIENT_IP_HEADER = "X-Test-Client-Ip"

AiohttpClient = Callable[[web.Application], Awaitable[TestClient]]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Endpoint:
    http: TestClient
    sandbox: RunningSandbox
    tokens: ClickTokens
    clock: Clock
    view: ViewResult

    def token(
        self, e164: str = AVIGNON.phone.e164, sample: str | None = SAMPLE, **view: Any
    ) -> str:
        result = ViewResult(
            **{"view_id": self.view.view_id, "visit_id": self.view.visit_id, **view}
        )
        return self.tokens.sign(result, e164, "reveal", sample)

    async def click(self, token: str, **headers: str) -> aiohttp.ClientResponse:
        return await self.http.post("/__dni/click", data={"token": token}, headers=headers)

    async def provider_clicks(self) -> int:
        return (await self.sandbox.requests())["ospClick"]


@web.middleware
async def client_ip(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stands in for the proxy's trusted-proxy logic: the address it decided on."""
    if CLIENT_IP_HEADER in request.headers:
        request[CLIENT_IP] = request.headers[CLIENT_IP_HEADER]
    response: web.StreamResponse = await handler(request)
    return response


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox() as running:
        yield running


@pytest.fixture
def make_endpoint(
    aiohttp_client: AiohttpClient, sandbox: RunningSandbox
) -> Callable[..., Awaitable[Endpoint]]:
    async def make(**server: object) -> Endpoint:
        cfg = config([optico(sandbox.url, sandbox.api_key)], [REVEAL], **server)
        provider_http = ProviderHttp()
        providers = build_providers(cfg, provider_http)
        clock = Clock()
        tokens = ClickTokens(SECRET, cfg.server.token_ttl, clock=clock)
        app = web.Application(middlewares=[client_ip])
        app.add_routes(click_routes(cfg, providers, tokens))
        app.on_cleanup.append(lambda _: provider_http.close())
        phones = (AVIGNON.phone, ANNECY.phone)
        view = await providers["optico"].view(
            page_view(visitor(), phones, rule_name="reveal", display="click")
        )
        assert view.view_id is not None
        return Endpoint(await aiohttp_client(app), sandbox, tokens, clock, view)

    return make


async def test_valid_token_reveals_the_number(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    response = await endpoint.click(endpoint.token())
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    answer = await response.json()
    assert answer["fallback"] is False and answer["code"] is None
    assert answer["tel"].startswith("tel:+339")
    digits = answer["tel"][len("tel:+33") :]
    assert answer["number"] == "0" + " ".join(
        [digits[0], *(digits[i : i + 2] for i in (1, 3, 5, 7))]
    )
    [click] = await endpoint.sandbox.get("/sandbox/clicks")
    assert click["view_id"] == int(str(endpoint.view.view_id))


async def test_code_is_written_and_dialled(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    response = await endpoint.click(endpoint.token(ANNECY.phone.e164, "04.50.98.27.56"))
    answer = await response.json()
    code = answer["code"]
    assert code and code.isdigit()
    assert answer["tel"].startswith("tel:+33899") and answer["tel"].endswith(f",{code}")
    assert answer["number"].startswith("08.99.") and answer["number"].endswith(f" (code {code})")


async def test_the_same_token_costs_one_provider_call(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    token = endpoint.token()
    answers = [await (await endpoint.click(token)).json() for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert await endpoint.provider_clicks() == 1


async def test_json_body(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    response = await endpoint.http.post("/__dni/click", json={"token": endpoint.token()})
    assert response.status == 200 and (await response.json())["fallback"] is False


def _altered(token: str) -> str:
    payload, _, mac = token.partition(".")
    return payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda e: "", id="missing"),
        pytest.param(lambda e: "not-a-token", id="garbage"),
        pytest.param(lambda e: _altered(e.token()), id="altered"),
        pytest.param(
            lambda e: ClickTokens(b"x" * 32, 60, e.clock).sign(e.view, "+33490260716", None, None),
            id="forged",
        ),
    ],
)
async def test_bad_tokens_cost_no_provider_call(make_endpoint: Any, spoil: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    response = await endpoint.click(spoil(endpoint))
    assert response.status == 403
    assert await response.json() == {"error": "invalid_token"}
    assert response.headers["Cache-Control"] == "no-store"
    assert await endpoint.provider_clicks() == 0


async def test_expired_token(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint(token_ttl=60)
    token = endpoint.token()
    endpoint.clock.now += 60
    response = await endpoint.click(token)
    assert response.status == 403
    assert await endpoint.provider_clicks() == 0


async def test_oversized_body_is_refused(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    response = await endpoint.http.post("/__dni/click", data={"token": "x" * 10_000})
    assert response.status == 403
    assert await endpoint.provider_clicks() == 0


async def test_cross_site_request_is_refused(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    response = await endpoint.click(endpoint.token(), **{"Sec-Fetch-Site": "cross-site"})
    assert response.status == 403
    assert await endpoint.provider_clicks() == 0


async def test_only_post(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    assert (await endpoint.http.get("/__dni/click")).status == 405


async def test_rate_per_ip(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint(click_rate_per_ip=2)
    statuses = []
    for visit in ("1", "2", "3"):
        response = await endpoint.click(endpoint.token(visit_id=visit))
        statuses.append(response.status)
    assert statuses == [200, 200, 429]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert await response.json() == {"error": "rate_limited"}
    assert await endpoint.provider_clicks() == 2


async def test_rate_per_visit(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint(click_rate_per_visit=1)
    first = await endpoint.click(endpoint.token(AVIGNON.phone.e164))
    second = await endpoint.click(endpoint.token(ANNECY.phone.e164, "04.50.98.27.56"))
    other_visit = await endpoint.click(endpoint.token(visit_id="999"))
    assert [first.status, second.status, other_visit.status] == [200, 429, 200]


async def test_rate_uses_the_address_the_proxy_decided_on(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint(click_rate_per_ip=1)
    one = await endpoint.click(endpoint.token(visit_id="1"), **{CLIENT_IP_HEADER: "203.0.113.1"})
    two = await endpoint.click(endpoint.token(visit_id="2"), **{CLIENT_IP_HEADER: "203.0.113.2"})
    again = await endpoint.click(endpoint.token(visit_id="3"), **{CLIENT_IP_HEADER: "203.0.113.1"})
    assert [one.status, two.status, again.status] == [200, 200, 429]


def _fallbacks(reason: str) -> float:
    return REGISTRY.get_sample_value("dni_fallbacks_total", {"reason": reason}) or 0.0


async def test_provider_failure_answers_the_original_number(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    await endpoint.sandbox.faults(error_rate=1.0, endpoints=["ospClick"])
    before = _fallbacks("error")
    response = await endpoint.click(endpoint.token())
    assert response.status == 200
    assert await response.json() == {
        "number": SAMPLE,
        "tel": "tel:+33490260716",
        "code": None,
        "fallback": True,
    }
    assert _fallbacks("error") == before + 1
    await endpoint.sandbox.clear_faults()
    retry = await (await endpoint.click(endpoint.token())).json()
    assert retry["fallback"] is False, "a fallback is not remembered for the token"


async def test_token_of_a_rule_no_longer_configured(make_endpoint: Any) -> None:
    endpoint: Endpoint = await make_endpoint()
    token = endpoint.tokens.sign(endpoint.view, AVIGNON.phone.e164, "gone", None)
    answer = await (await endpoint.click(token)).json()
    assert answer == {
        "number": "04 90 26 07 16",
        "tel": "tel:+33490260716",
        "code": None,
        "fallback": True,
    }
    assert await endpoint.provider_clicks() == 0


@pytest.mark.parametrize(
    ("headers", "page"),
    [
        pytest.param({"Referer": "https://www.example.de/anzeige/17"}, None, id="referer"),
        pytest.param({}, "origin", id="no-referrer"),
    ],
)
async def test_freespee_reveal_asks_for_the_one_number(
    aiohttp_client: AiohttpClient,
    sandbox: RunningSandbox,
    headers: dict[str, str],
    page: str | None,
) -> None:
    berlin = phone_rule("030 15981100", "DE")
    ads = rule("ads", "freespee", [berlin], display="click")
    provider = freespee(sandbox.freespee_url, sandbox.freespee_secret, sandbox.adv_id)
    cfg = config([provider], [ads])
    tokens = ClickTokens(SECRET, 60)
    async with ProviderHttp() as http:
        app = web.Application()
        app.add_routes(click_routes(cfg, build_providers(cfg, http), tokens))
        http = await aiohttp_client(app)
        token = tokens.sign(ViewResult(), berlin.phone.e164, "ads", "030 15981100")
        response = await http.post("/__dni/click", data={"token": token}, headers=headers)
        answer = await response.json()
    assert answer["fallback"] is False and answer["code"] is None
    assert answer["tel"].startswith("tel:+49301598")
    assert answer["number"].startswith("030 1598")
    [asked] = await sandbox.get("/sandbox/freespee/views")
    assert asked["numbers"] == "+493015981100"
    expected = headers.get("Referer") or str(http.make_url("/"))
    assert asked["full_url"] == expected
