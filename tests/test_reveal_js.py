"""reveal.js as a file and as served: CSP-safe source, versioned long caching."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from test_providers_setup import config

from proxy.click import SCRIPT, SCRIPT_VERSION, ClickTokens, click_routes, reveal_script_src

SOURCE = SCRIPT.decode("utf-8")

# Constructs a `script-src 'self'` policy (no 'unsafe-eval', no 'unsafe-inline') forbids or
# that would need inline markup or styles.
FORBIDDEN = [
    pytest.param(r"\beval\s*\(", id="eval"),
    pytest.param(r"\bnew\s+Function\b", id="function-constructor"),
    pytest.param(r"set(?:Timeout|Interval)\s*\(\s*['\"`]", id="string-timer"),
    pytest.param(
        r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write", id="html-strings"
    ),
    pytest.param(r"setAttribute\(\s*['\"](?:style|on\w+)['\"]", id="inline-style-or-handler"),
    pytest.param(r"\.on(?:click|keydown|load)\s*=", id="handler-properties"),
    pytest.param(r"\bimport\s*\(|\brequire\s*\(", id="dependencies"),
]


@pytest.mark.parametrize("pattern", FORBIDDEN)
def test_source_needs_nothing_a_strict_policy_forbids(pattern: str) -> None:
    assert re.search(pattern, SOURCE) is None


def test_small_and_self_contained() -> None:
    assert len(SCRIPT) < 8 * 1024
    assert "http://" not in SOURCE and "https://" not in SOURCE


def test_src_is_versioned_by_content() -> None:
    assert reveal_script_src("/__dni") == f"/__dni/reveal.js?v={SCRIPT_VERSION}"
    assert reveal_script_src("/edge/") == f"/edge/reveal.js?v={SCRIPT_VERSION}"


@pytest.fixture
async def client(aiohttp_client) -> TestClient:  # type: ignore[no-untyped-def]
    app = web.Application()
    app.add_routes(click_routes(config([], [], prefix="/edge"), {}, ClickTokens(b"s" * 32, 60)))
    return await aiohttp_client(app)


async def test_current_version_is_immutable(client: TestClient) -> None:
    response = await client.get(reveal_script_src("/edge"))
    assert response.status == 200
    assert await response.read() == SCRIPT
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef", "?v="])
async def test_other_versions_are_cached_briefly(client: TestClient, query: str) -> None:
    response = await client.get(f"/edge/reveal.js{query}")
    assert response.status == 200
    assert "immutable" not in response.headers["Cache-Control"]


async def test_revalidation(client: TestClient) -> None:
    first = await client.get(reveal_script_src("/edge"))
    again = await client.get(
        reveal_script_src("/edge"), headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304
    assert await again.read() == b""
