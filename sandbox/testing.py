"""The sandbox inside a test's event loop: `async with running_sandbox() as sb: ...`.

It serves the same app as `dni-edge sandbox` on 127.0.0.1, on a free port, and
stops it (closing every connection and the store) when the block ends.

    settings = demo_settings({3: 2})            # one pool, type 3, two numbers
    async with running_sandbox(settings=settings) as sb:
        await sb.faults(latency_ms=2000, endpoints=["ospView"])
        ...
        assert (await sb.requests())["ospView"] == 1
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.app import build_app
from sandbox.clock import Clock
from sandbox.freespee import FREESPEE_PATH, sign
from sandbox.settings import SandboxSettings, demo_settings
from sandbox.state import SANDBOX, Sandbox

__all__ = ["RunningSandbox", "demo_settings", "running_sandbox", "sign"]


@dataclass
class RunningSandbox:
    url: str
    """Base URL, no trailing slash: the Optico endpoints are `url + "/ospView"`..."""
    api_key: str
    freespee_url: str
    adv_id: str
    freespee_secret: str
    app: web.Application
    _session: aiohttp.ClientSession

    @property
    def state(self) -> Sandbox:
        """The live state (store, clock, settings), for what the controls do not show."""
        return self.app[SANDBOX]

    async def get(self, path: str) -> Any:
        """The JSON of a control endpoint, e.g. `await sb.get("/sandbox/views")`."""
        async with self._session.get(self.url + path) as response:
            response.raise_for_status()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self._session.post(self.url + path, json=body or {}) as response:
            response.raise_for_status()
            return await response.json()

    async def requests(self) -> dict[str, int]:
        """Requests received per provider endpoint: ospView, ospClick, ospExpiration, freespee."""
        counts: dict[str, int] = await self.get("/sandbox/requests")
        return counts

    async def faults(self, **faults: Any) -> dict[str, Any]:
        """Replace the faults in force: latency_ms, error_rate, hang, close, malformed,
        exhausted, endpoints (default: all provider endpoints)."""
        result: dict[str, Any] = await self.post("/sandbox/faults", faults)
        return result

    async def clear_faults(self) -> None:
        async with self._session.delete(self.url + "/sandbox/faults") as response:
            response.raise_for_status()

    async def advance(self, seconds: float) -> None:
        await self.post("/sandbox/clock", {"advance": seconds})

    async def set_clock(self, at: str | float, *, freeze: bool = True) -> None:
        """Set the time (`YYYY-MM-DD HH:MM:SS` UTC or epoch), frozen there by default."""
        await self.post("/sandbox/clock", {"freeze": freeze, "set": at})

    async def reset(self, *, state: bool = False) -> None:
        await self.post("/sandbox/reset", {"state": state})

    async def call(self, tracking_number: str, **extra: Any) -> dict[str, Any]:
        """Simulate an inbound call (extra: at, code, caller); the recorded call."""
        result: dict[str, Any] = await self.post(
            "/sandbox/calls", {"tracking_number": tracking_number, **extra}
        )
        return result


@asynccontextmanager
async def running_sandbox(
    *, settings: SandboxSettings | None = None, db: str = ":memory:", clock: Clock | None = None
) -> AsyncIterator[RunningSandbox]:
    settings = settings or demo_settings()
    app = build_app(settings, db=db, clock=clock)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        advertiser = settings.advertisers[0] if settings.advertisers else None
        async with aiohttp.ClientSession() as session:
            yield RunningSandbox(
                url=url,
                api_key=settings.demo_api_key,
                freespee_url=url + FREESPEE_PATH,
                adv_id=advertiser.adv_id if advertiser else "",
                freespee_secret=advertiser.secret if advertiser else "",
                app=app,
                _session=session,
            )
    finally:
        await runner.cleanup()
