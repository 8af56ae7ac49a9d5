"""The sandbox application: the provider routes and the test controls around one `Sandbox`.

`build_app()` validates the settings, opens the store, and returns an aiohttp
application; nothing is read from files or the environment here (the CLI does
that), so tests build the same app the command runs.
"""

from __future__ import annotations

from aiohttp import web

from sandbox import controls, routes
from sandbox.clock import Clock
from sandbox.settings import SandboxSettings, demo_settings
from sandbox.state import SANDBOX, Sandbox


def build_app(
    settings: SandboxSettings | None = None, *, db: str = ":memory:", clock: Clock | None = None
) -> web.Application:
    """The sandbox as an aiohttp app; SandboxConfigError if the settings or database cannot work."""
    sandbox = Sandbox.open(settings or demo_settings(), db, clock or Clock())
    app = web.Application()
    app[SANDBOX] = sandbox
    app.add_routes(routes.ROUTES)
    app.add_routes(controls.ROUTES)
    app.on_shutdown.append(_release_hanging)
    app.on_cleanup.append(_close_store)
    return app


async def _release_hanging(app: web.Application) -> None:
    app[SANDBOX].injector.stop()


async def _close_store(app: web.Application) -> None:
    app[SANDBOX].close()
