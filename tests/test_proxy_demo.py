"""The repository's config.toml and demo site, as `make demo` runs them, through the real proxy."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from harness import Harness, Site, running_proxy

from proxy.config_io import load_config_file
from proxy.demo_site import SITE, build_app
from sandbox.testing import running_sandbox

CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


@asynccontextmanager
async def demo() -> AsyncIterator[Harness]:
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with running_sandbox() as sandbox:
            config = load_config_file(
                CONFIG,
                environ={"DNI_PROVIDERS_OPTICO_URL": sandbox.url},
                overrides={
                    "server.upstream": f"http://127.0.0.1:{site.port}",
                    "server.listen": "127.0.0.1:0",
                },
            )
            upstream = Site(url=f"http://127.0.0.1:{site.port}")
            async with running_proxy(upstream, sandbox=sandbox, config=config) as proxy:
                yield proxy
    finally:
        await runner.cleanup()


async def test_the_demo_pages_through_the_proxy() -> None:
    async with demo() as proxy:
        _, _, home = await proxy.get("/")
        _, _, contact = await proxy.get("/contact")
        _, headers, legacy = await proxy.get("/legacy")
        async with proxy.client.get(proxy.at("/offres"), auto_decompress=False) as response:
            offres_encoding = response.headers["Content-Encoding"]
            offres = gzip.decompress(await response.read())
        _, _, logo = await proxy.get("/logo.png")
        _, _, api = await proxy.get("/api/agences.json")
    assert b"04 90 26 07 16" not in home.split(b"<main>")[0]  # the top bar's number
    assert home.count(b'"04 90 26 07 16"') == 1  # the script's string is never rewritten
    assert b"<!-- 04 90 26 07 16 -->" in home
    assert b'"telephone": "+33 4 90 26 07 16"' in home  # nor the JSON-LD
    assert b"04.90.26.07.16" not in home and b"+33 (0)4 90 26 07 16" not in home
    assert contact.count(b"data-dni-token=") == 3 and b"/__dni/reveal.js?v=" in contact
    assert re.search(rb"<b>08 99 \d\d \d\d \d\d \(code \d{4}\)</b>", legacy)
    # The legal mention keeps the real number: the rule excludes `.legal`.
    assert "tél. 04 90 26 07 16.".encode("cp1252") in legacy
    assert "\ufffd" not in legacy.decode("cp1252")
    assert headers["Content-Type"] == "text/html"
    assert offres_encoding == "gzip" and b"04 90 26 07 16" not in offres
    assert logo == (SITE / "logo.png").read_bytes()
    assert b"04 90 26 07 16" in api
