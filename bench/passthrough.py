"""The baseline of the proxy benchmark: a minimal aiohttp pass-through proxy, nothing else.

    python -m bench.passthrough --listen 127.0.0.1:18081 --upstream http://127.0.0.1:18080

One process, uvloop, no access log. It reads the whole upstream body and sends
it with its length (the faster of the two shapes measured in perf-anchors.md),
forwarding the method, path, query and the end-to-end headers. No limits, no
forwarded headers, no rewriting: the ceiling a Python proxy on aiohttp can reach.
"""

from __future__ import annotations

import argparse

import aiohttp
import uvloop
from aiohttp import web
from yarl import URL

HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"})
SKIP_RESPONSE = HOP | {"content-length"}


def build_app(upstream: str) -> web.Application:
    base = upstream.rstrip("/")
    app = web.Application()
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def start(app: web.Application) -> None:
        app[session_key] = aiohttp.ClientSession(
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=1024),
        )

    async def stop(app: web.Application) -> None:
        await app[session_key].close()

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        body = await request.read() if request.body_exists else None
        url = URL(base + request.rel_url.raw_path_qs, encoded=True)
        async with app[session_key].request(
            request.method, url, headers=headers, data=body, allow_redirects=False
        ) as response:
            payload = await response.read()
            out = [(k, v) for k, v in response.headers.items() if k.lower() not in SKIP_RESPONSE]
            return web.Response(status=response.status, headers=out, body=payload)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{path:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:18081", metavar="HOST:PORT")
    parser.add_argument("--upstream", required=True, metavar="URL")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    web.run_app(
        build_app(args.upstream),
        host=host,
        port=int(port),
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
