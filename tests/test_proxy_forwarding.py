"""Forwarding: what the upstream receives and what the client gets back, through the real proxy."""

from __future__ import annotations

import asyncio
import gzip
import io
import json

import pytest
from aiohttp import web
from harness import Site, running_proxy, running_site

HOP_REQUEST_HEADERS = [
    pytest.param({"Keep-Alive": "timeout=5"}, "Keep-Alive", id="keep-alive"),
    pytest.param({"TE": "trailers"}, "TE", id="te"),
    pytest.param({"Trailer": "X-Checksum"}, "Trailer", id="trailer"),
    pytest.param({"Upgrade": "h2c"}, "Upgrade", id="upgrade"),
    pytest.param({"Proxy-Authorization": "Basic eDp5"}, "Proxy-Authorization", id="proxy-auth"),
    pytest.param({"Proxy-Connection": "keep-alive"}, "Proxy-Connection", id="proxy-connection"),
    pytest.param(
        {"Connection": "keep-alive, X-Secret", "X-Secret": "1"},
        "X-Secret",
        id="named-by-connection",
    ),
    pytest.param({"Expect": "100-continue"}, "Expect", id="expect"),
]


@pytest.mark.parametrize(("sent", "dropped"), HOP_REQUEST_HEADERS)
async def test_hop_by_hop_request_headers_are_not_forwarded(
    sent: dict[str, str], dropped: str
) -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.page("/asset.txt", "x", content_type="text/plain")
        status, _, _ = await proxy.get("/asset.txt", headers={**sent, "X-Kept": "yes"})
        assert status == 200
        (seen,) = site.requests_to("/asset.txt")
        assert dropped not in seen.headers
        assert seen.headers["X-Kept"] == "yes"


async def test_connection_cannot_remove_the_forwarded_headers() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.page("/a.txt", "x", content_type="text/plain")
        named = "X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, X-Request-Id"
        await proxy.get("/a.txt", headers={"Connection": f"keep-alive, {named}"})
        (seen,) = site.requests_to("/a.txt")
        assert seen.headers["X-Forwarded-For"] == "127.0.0.1"
        assert seen.headers["X-Forwarded-Proto"] == "http"
        assert seen.headers["X-Forwarded-Host"] == proxy.url.removeprefix("http://")
        assert seen.headers["X-Request-Id"]


async def test_hop_by_hop_response_headers_are_not_returned() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            text="{}",
            content_type="application/json",
            headers={
                "Connection": "X-Internal",
                "X-Internal": "secret",
                "Keep-Alive": "timeout=5",
                "Proxy-Authenticate": "Basic",
                "Trailer": "X-Sum",
                "Upgrade": "h2c",
                "Alt-Svc": 'h3="evil.example:443"',
                "X-Kept": "yes",
            },
        )

    async with running_site() as site, running_proxy(site) as proxy:
        site.handlers["/api"] = handler
        status, headers, _ = await proxy.get("/api")
        assert status == 200
        for name in ("X-Internal", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade"):
            assert name not in headers
        assert "Alt-Svc" not in headers
        assert headers["X-Kept"] == "yes"


SPOOFING = [
    pytest.param({"X-Forwarded-For": "1.2.3.4"}, id="spoofed-xff"),
    pytest.param({"X-Forwarded-For": "1.2.3.4, 127.0.0.1"}, id="spoofed-chain"),
    pytest.param({"X_Forwarded_For": "1.2.3.4"}, id="underscore-alias"),
    pytest.param({"Forwarded": "for=1.2.3.4"}, id="forwarded"),
    pytest.param({"X-Real-IP": "1.2.3.4"}, id="x-real-ip"),
    pytest.param({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}, id="proto"),
]


@pytest.mark.parametrize("sent", SPOOFING)
async def test_forwarded_headers_from_untrusted_peers_are_ignored(sent: dict[str, str]) -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.page("/a.txt", "x", content_type="text/plain")
        await proxy.get("/a.txt", headers=sent)
        (seen,) = site.requests_to("/a.txt")
        assert seen.headers.getall("X-Forwarded-For") == ["127.0.0.1"]  # type: ignore[attr-defined]
        assert seen.headers["X-Forwarded-Proto"] == "http"
        assert "evil.example" not in seen.headers["X-Forwarded-Host"]
        raw_names = {name.decode().lower() for name, _ in seen.raw_headers}
        assert raw_names.isdisjoint({"x_forwarded_for", "forwarded", "x-real-ip"})


async def test_trusted_peer_chain_is_kept_and_rightmost_untrusted_is_the_client() -> None:
    async with (
        running_site() as site,
        running_proxy(site, trusted='"127.0.0.0/8", "10.0.0.0/8"') as proxy,
    ):
        site.page("/a.txt", "x", content_type="text/plain")
        xff = "6.6.6.6, 203.0.113.7, 10.1.2.3"
        await proxy.get("/a.txt", headers={"X-Forwarded-For": xff, "X-Forwarded-Proto": "https"})
        (seen,) = site.requests_to("/a.txt")
        assert seen.headers["X-Forwarded-For"] == f"{xff}, 127.0.0.1"
        assert seen.headers["X-Forwarded-Proto"] == "https"
        lines = proxy.lines_about("/a.txt")
        assert lines


async def test_every_upstream_set_cookie_is_kept() -> None:
    async def handler(request: web.Request) -> web.Response:
        response = web.Response(text="{}", content_type="application/json")
        for name in ("a", "b", "c"):
            response.headers.add("Set-Cookie", f"{name}=1; Path=/; HttpOnly")
        return response

    async with running_site() as site, running_proxy(site) as proxy:
        site.handlers["/api"] = handler
        _, headers, _ = await proxy.get("/api")
        assert headers.getall("Set-Cookie") == [  # type: ignore[attr-defined]
            "a=1; Path=/; HttpOnly",
            "b=1; Path=/; HttpOnly",
            "c=1; Path=/; HttpOnly",
        ]


async def test_redirects_are_not_followed() -> None:
    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere?x=1")

    async with running_site() as site, running_proxy(site) as proxy:
        site.handlers["/old"] = handler
        status, headers, _ = await proxy.get("/old", allow_redirects=False)
        assert status == 302
        assert headers["Location"] == "/elsewhere?x=1"
        assert site.requests_to("/elsewhere") == []


async def test_method_path_query_and_body_are_forwarded_as_sent() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        target = "/api/items%2F42/caf%C3%A9?q=a%20b&q=c&empty="
        async with proxy.client.patch(proxy.at(target), data=b'{"n": 1}') as response:
            assert response.status == 404
        (seen,) = site.seen
        assert (seen.method, seen.path_qs, seen.body) == ("PATCH", target, b'{"n": 1}')


async def test_request_bodies_are_not_decompressed() -> None:
    payload = gzip.compress(b"A" * 200_000)
    async with running_site() as site, running_proxy(site) as proxy:
        headers = {"Content-Encoding": "gzip", "Content-Type": "text/plain"}
        async with proxy.client.post(proxy.at("/upload"), data=payload, headers=headers):
            pass
        (seen,) = site.seen
        assert seen.body == payload
        assert seen.headers["Content-Encoding"] == "gzip"


async def test_a_body_over_the_cap_gets_413_declared_or_streamed() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    async with running_site() as site, running_proxy(site, body_max="1MiB") as proxy:
        too_big = io.BytesIO(b"x" * 1_100_000)
        async with proxy.client.post(proxy.at("/upload"), data=too_big) as response:
            assert response.status == 413
        assert site.seen == []
        async with proxy.client.post(proxy.at("/upload"), data=chunks()) as response:
            assert response.status == 413
        assert all(len(seen.body) <= 1024 * 1024 for seen in site.seen)


async def test_host_is_kept() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.page("/a.txt", "x", content_type="text/plain")
        await proxy.get("/a.txt", headers={"Host": "www.example.fr"})
        (seen,) = site.requests_to("/a.txt")
        assert seen.headers["Host"] == "www.example.fr"


async def test_unreachable_upstream_gives_a_small_502_and_a_log_reason() -> None:
    site = Site(url="http://127.0.0.1:9")
    async with running_proxy(site) as proxy:
        status, headers, body = await proxy.get("/page/home")
        assert status == 502
        assert b"127.0.0.1:9" not in body and b"Error" not in body
        assert headers["Cache-Control"] == "no-store"
        (line,) = proxy.lines_about("/page/home")
        record = json.loads(line)
        assert record["outcome"] == "upstream_error"
        assert "cannot connect" in record["reason"]


async def test_slow_upstream_gives_504() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    async with running_site() as site, running_proxy(site, upstream_timeout="300ms") as proxy:
        site.handlers["/slow"] = slow
        status, _, _ = await proxy.get("/slow")
        assert status == 504
        record = json.loads(proxy.lines_about("/slow")[0])
        assert record["reason"].endswith("timed out")


async def test_head_and_conditional_requests_pass_untouched() -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=b"<p>x</p>", content_type="text/html", headers={"ETag": '"v1"'})

    async with running_site() as site, running_proxy(site) as proxy:
        site.handlers["/page/cached"] = handler
        status, headers, body = await proxy.get("/page/cached", headers={"If-None-Match": '"v1"'})
        assert (status, headers["ETag"], body) == (304, '"v1"', b"")
        async with proxy.client.head(proxy.at("/page/cached")) as response:
            assert response.status == 200
            assert response.headers["ETag"] == '"v1"'
            assert response.headers["Content-Length"] == "8"


async def test_request_id_is_honoured_propagated_and_logged() -> None:
    async with running_site() as site, running_proxy(site) as proxy:
        site.page("/a.txt", "x", content_type="text/plain")
        await proxy.get("/a.txt", headers={"X-Request-Id": "req-42.a"})
        await proxy.get("/a.txt", headers={"X-Request-Id": "bad id\u00e9"})
        first, second = site.requests_to("/a.txt")
        assert first.headers["X-Request-Id"] == "req-42.a"
        assert second.headers["X-Request-Id"] != "bad id\u00e9"
        records = [json.loads(line) for line in proxy.lines_about("/a.txt")]
        assert [r["request_id"] for r in records] == [
            "req-42.a",
            second.headers["X-Request-Id"],
        ]
        assert {"method", "status", "bytes", "upstream_ms", "outcome"} <= records[0].keys()
