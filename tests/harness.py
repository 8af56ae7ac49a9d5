"""One harness that pushes pages through the whole proxy, on loopback.

`Site` is the upstream: a real aiohttp server whose pages and handlers a test
sets (and changes) at any time, and which records every request it receives.
`running_proxy` starts the real proxy in front of it, with a config written as
TOML (the provider pointing at the real sandbox when one is given), captures
every log line the proxy writes, and yields a `Harness` with a client that
looks like a browser.
"""

from __future__ import annotations

import gzip
import io
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import brotli
import zstandard
from aiohttp import web

from proxy.logs import JsonFormatter
from proxy.runtime import RUNTIME
from proxy.server import create_app, make_runner
from rules.config import Config, load_config
from sandbox.settings import SandboxSettings
from sandbox.testing import demo_settings, running_sandbox

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
API_KEY_ENV = "DNI_TEST_OPTICO_KEY"
SENTINEL_KEY = "osp_test_sentinel_7f3a9c1e5b"
"""The provider API key of every proxy the harness runs: no response and no log line may show it."""
# Nothing listens there: a provider that refuses every connection at once.
NO_PROVIDER = "http://127.0.0.1:9"

DEFAULT_TOML = """
[server]
listen = "127.0.0.1:0"
upstream = "{upstream}"
prefix = "/__dni"
rewrite_max_bytes = "{rewrite_max}"
request_body_max_bytes = "{body_max}"
header_timeout = "{header_timeout}"
max_connections = {max_connections}
upstream_timeout = "{upstream_timeout}"
trusted_proxies = [{trusted}]
token_ttl = "{token_ttl}"
click_rate_per_ip = {click_rate_per_ip}
click_rate_per_visit = {click_rate_per_visit}

[providers.optico]
kind = "optico"
url = "{provider}"
api_key_env = "{api_key_env}"
timeout = "{provider_timeout}"
breaker_failures = {breaker_failures}
breaker_cooldown = "{breaker_cooldown}"

[[rules]]
name = "contact"
paths = ["/contact*"]
display = "click"
phones = ["04 90 26 07 16", {{ number = "+33 4 50 98 27 56", type = 6 }}, "01 85 08 37 37"]

[[rules]]
name = "site"
paths = ["/page/**", "/p/**"]
display = "direct"
phones = ["04 90 26 07 16", {{ number = "+33 4 50 98 27 56", type = 6 }}, "01 85 08 37 37"]
"""

DEFAULTS: dict[str, Any] = {
    "rewrite_max": "1MiB",
    "body_max": "1MiB",
    "header_timeout": "10s",
    "max_connections": 1024,
    "upstream_timeout": "5s",
    "trusted": "",
    "token_ttl": "30m",
    "click_rate_per_ip": 30,
    "click_rate_per_visit": 10,
    "provider_timeout": "1500ms",
    "breaker_failures": 5,
    "breaker_cooldown": "15s",
}

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda b: b,
    "gzip": lambda b: gzip.compress(b, 6),
    "deflate": lambda b: zlib.compress(b, 6),
    "br": lambda b: brotli.compress(b),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}

DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda b: b,
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "br": brotli.decompress,
    "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    path_qs: str
    """The request target exactly as received (still percent-encoded)."""
    headers: Mapping[str, str]
    raw_headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


@dataclass
class Site:
    """The upstream site: pages and handlers by path, and a record of what it received."""

    pages: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def page(
        self,
        path: str,
        html: str | bytes,
        *,
        encoding: str = "identity",
        content_type: str = "text/html; charset=utf-8",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body = html.encode("utf-8") if isinstance(html, str) else html
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if encoding != "identity":
            all_headers["Content-Encoding"] = encoding
        self.pages[path] = (ENCODERS[encoding](body), all_headers)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.raw_path,
                request.headers,
                tuple(request.raw_headers),
                body,
            )
        )
        handler = self.handlers.get(request.path)
        if handler is not None:
            return await handler(request)
        if request.path in self.pages:
            payload, headers = self.pages[request.path]
            return web.Response(body=payload, headers=headers)
        return web.Response(status=404, text="not found")

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path_qs.split("?")[0] == path]


@asynccontextmanager
async def running_site(site: Site | None = None) -> AsyncIterator[Site]:
    site = site or Site()
    app = web.Application(client_max_size=256 * 1024 * 1024)
    app.router.add_route("*", "/{path:.*}", site._handle)
    runner = web.AppRunner(app, auto_decompress=False, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    site.url = f"http://127.0.0.1:{tcp.port}"
    try:
        yield site
    finally:
        await runner.cleanup()


class LogCapture(logging.Handler):
    """Every log line the proxy writes, formatted exactly as the real handler would."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Harness:
    site: Site
    config: Config
    app: web.Application
    url: str
    client: aiohttp.ClientSession
    logs: LogCapture
    sandbox: Any = None

    def at(self, path: str) -> str:
        return f"{self.url}{path}"

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Mapping[str, str], bytes]:
        async with self.client.get(self.at(path), **kwargs) as response:
            return response.status, response.headers, await response.read()

    def lines_about(self, path: str) -> list[str]:
        return [line for line in self.logs.lines if f'"path": "{path}"' in line]


def make_config(
    site: Site, *, provider: str = NO_PROVIDER, api_key: str = SENTINEL_KEY, **options: Any
) -> Config:
    values = {**DEFAULTS, **options}
    toml = values.pop("toml", DEFAULT_TOML)
    text = toml.format(upstream=site.url, provider=provider, api_key_env=API_KEY_ENV, **values)
    return load_config(text, source="test.toml", environ={API_KEY_ENV: api_key})


@asynccontextmanager
async def running_proxy(
    site: Site,
    *,
    sandbox: Any = None,
    api_key: str | None = None,
    cookie_jar: aiohttp.abc.AbstractCookieJar | None = None,
    config: Config | None = None,
    **options: Any,
) -> AsyncIterator[Harness]:
    """The real proxy in front of `site` (and `sandbox`, when given), and a browser-like client.

    The config is the harness's template filled with `options`, unless one is given.
    """
    provider = sandbox.url if sandbox is not None else NO_PROVIDER
    key = api_key or (sandbox.api_key if sandbox is not None else SENTINEL_KEY)
    config = config or make_config(site, provider=provider, api_key=key, **options)
    capture = LogCapture()
    root = logging.getLogger()
    root.addHandler(capture)
    old_level = root.level
    root.setLevel(logging.INFO)
    app = await create_app(config)
    runner = make_runner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    jar = cookie_jar if cookie_jar is not None else aiohttp.CookieJar(unsafe=True)
    client = aiohttp.ClientSession(
        headers={"User-Agent": BROWSER_UA},
        cookie_jar=jar,
        trace_configs=[leak_check(key)],
    )
    try:
        yield Harness(site, config, app, f"http://127.0.0.1:{tcp.port}", client, capture, sandbox)
    finally:
        await client.close()
        await runner.cleanup()
        root.removeHandler(capture)
        root.setLevel(old_level)
    leaked = [line for line in capture.lines if key in line]
    assert not leaked, f"the API key is in a log line: {leaked[0][:200]}"


def leak_check(secret: str) -> aiohttp.TraceConfig:
    """Fail the request that brings `secret` back, in a header or a body chunk."""
    trace = aiohttp.TraceConfig()

    async def on_chunk(session: Any, context: Any, params: Any) -> None:
        assert secret.encode() not in params.chunk, "the API key is in a response body"

    async def on_end(session: Any, context: Any, params: Any) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in params.response.headers.items())
        assert secret not in headers, "the API key is in a response header"

    trace.on_response_chunk_received.append(on_chunk)
    trace.on_request_end.append(on_end)
    return trace


def sandbox_settings(pools: Mapping[int, int] | None = None) -> SandboxSettings:
    """The sandbox's demo settings, its domain keyed by the sentinel key."""
    settings = demo_settings(pools)
    domain = replace(settings.domains[0], api_key=SENTINEL_KEY)
    return replace(settings, domains=(domain,))


@asynccontextmanager
async def sentinel_sandbox(pools: Mapping[int, int] | None = None) -> AsyncIterator[Any]:
    """The real sandbox on loopback, accepting only the sentinel key."""
    async with running_sandbox(settings=sandbox_settings(pools)) as sandbox:
        yield sandbox


async def settle(harness: Harness) -> None:
    """Wait for the provider calls the proxy made in the background."""
    await harness.app[RUNTIME].background.drain(5.0)


def gunzip(data: bytes) -> bytes:
    return gzip.GzipFile(fileobj=io.BytesIO(data)).read()
