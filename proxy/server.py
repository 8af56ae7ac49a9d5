"""The proxy server: the aiohttp application, its start and its graceful stop.

Routes, in order: the operability endpoints and the click endpoint under the
prefix, then everything else to `forward`. One middleware gives every request
its id, its client address (see `forwarded`) and its log line.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import signal
import time
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, web

from proxy import metrics, ops, visitors
from proxy.click import ClickTokens, click_routes, reveal_script_src
from proxy.forward import forward
from proxy.forwarded import CLIENT_IP, parse_networks, resolve_origin
from proxy.limits import GuardedAppRunner
from proxy.logs import RequestRecord, log_event, log_request, request_id
from proxy.pipeline import EXCHANGE, Exchange
from proxy.plans import ScanPlans
from proxy.providers import ProviderHttp, build_providers
from proxy.runtime import RUNTIME, Runtime
from proxy.send import keep_untyped
from proxy.upstream import Upstream
from rules.config import Config

# Keep-alive idle time for client connections (nginx's default).
KEEPALIVE_TIMEOUT = 75.0
# After a refused upload (413), what is left of the body is read and dropped this long, so
# the client sees the answer instead of a reset; then the connection is closed.
LINGERING_TIME = 2.0
# How long background provider calls may finish after the last request, at shutdown.
BACKGROUND_DRAIN = 2.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ParserUnavailable(RuntimeError):
    """aiohttp runs on its pure-Python HTTP parser."""


def require_c_parser() -> None:
    """Refuse the pure-Python HTTP parser: it is slower and where parser CVEs lived."""
    from aiohttp import http_parser

    if http_parser.HttpRequestParser is not getattr(http_parser, "HttpRequestParserC", None):
        raise ParserUnavailable(
            "aiohttp's C HTTP parser is not in use (is AIOHTTP_NO_EXTENSIONS set?); "
            "reinstall aiohttp from a wheel for this platform"
        )


@web.middleware
async def exchange_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, client address and public origin for every request; one log line each."""
    rt = request.app[RUNTIME]
    record = RequestRecord(
        request_id(request.headers.get("X-Request-Id")), request.method, request.path
    )
    origin = resolve_origin(
        peer=request.remote or "",
        xff_values=request.headers.getall("X-Forwarded-For", []),
        forwarded_proto=request.headers.get("X-Forwarded-Proto"),
        forwarded_host=request.headers.get("X-Forwarded-Host"),
        host=request.headers.get("Host", ""),
        transport_scheme=request.scheme,
        trusted=rt.trusted,
        public_scheme=rt.config.server.public_scheme,
    )
    request[CLIENT_IP] = origin.client_ip
    request[EXCHANGE] = Exchange(request, origin, record)
    if request.match_info.handler is not forward:
        record.outcome = "internal"
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        return response
    except web.HTTPException as exc:
        response = exc
        raise
    except asyncio.CancelledError:
        record.outcome = "cancelled"
        raise
    finally:
        _finish(record, response)


def _finish(record: RequestRecord, response: web.StreamResponse | None) -> None:
    if response is not None:
        record.status = response.status
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            record.bytes = len(response.body)
    metrics.child(metrics.REQUESTS, record.outcome).inc()
    log_request(record)


async def create_app(config: Config) -> web.Application:
    """The proxy application for `config`; its seams open now and close on app cleanup."""
    server = config.server
    provider_http = ProviderHttp()
    try:
        providers = build_providers(config, provider_http)
    except BaseException:
        await provider_http.close()
        raise
    upstream = Upstream(
        server.upstream,
        connect_timeout=server.upstream_connect_timeout,
        read_timeout=server.upstream_timeout,
        max_connections=server.max_connections,
    )
    await upstream.start()
    secret = server.token_secret.encode() if server.token_secret else secrets.token_bytes(32)
    tokens = ClickTokens(secret, server.token_ttl)
    rt = Runtime(
        config=config,
        upstream=upstream,
        trusted=parse_networks(server.trusted_proxies),
        providers=providers,
        tokens=tokens,
        reveal_src=reveal_script_src(server.prefix),
        plans=ScanPlans(server.scan_cache_bytes),
    )
    visitors.warm()
    app = web.Application(middlewares=[exchange_middleware])
    app[RUNTIME] = rt
    app.add_routes(ops.ops_routes(server.prefix))
    app.add_routes(click_routes(config, providers, tokens))
    app.router.add_route("*", "/{path:.*}", forward)
    app.on_response_prepare.append(keep_untyped)
    app.on_shutdown.append(_close_websockets)
    app.on_cleanup.append(_cleanup(provider_http))
    return app


async def _close_websockets(app: web.Application) -> None:
    for ws in list(app[RUNTIME].websockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def _cleanup(provider_http: ProviderHttp) -> Callable[[web.Application], Awaitable[None]]:
    async def cleanup(app: web.Application) -> None:
        rt = app[RUNTIME]
        await rt.background.drain(BACKGROUND_DRAIN)
        for provider in rt.providers.values():
            await provider.close()
        await provider_http.close()
        await rt.upstream.close()

    return cleanup


def make_runner(app: web.Application) -> GuardedAppRunner:
    server = app[RUNTIME].config.server
    return GuardedAppRunner(
        app,
        header_timeout=server.header_timeout,
        max_connections=server.max_connections,
        access_log=None,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        lingering_time=LINGERING_TIME,
        auto_decompress=False,
        shutdown_timeout=server.shutdown_grace,
    )


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`), then drain: stop accepting, finish in-flight."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = await create_app(config)
    runner = make_runner(app)
    await runner.setup()
    server = config.server
    try:
        site = web.TCPSite(runner, server.listen_host, server.listen_port, backlog=1024)
        await site.start()
        # What start-up loaded (phone metadata, user-agent and crawler lists, the app) lives
        # as long as the process: out of the collector's sight, so that its full passes
        # under load walk only what requests create.
        gc.freeze()
        log_event("listening", listen=f"{server.listen_host}:{site.port}", upstream=server.upstream)
        await stop.wait()
        app[RUNTIME].draining = True
        log_event("draining", grace_s=server.shutdown_grace)
    finally:
        started = time.monotonic()
        await runner.cleanup()
    log_event("stopped", logging.INFO, drain_s=round(time.monotonic() - started, 3))
