"""Operability endpoints under the prefix: liveness, readiness and Prometheus metrics.

- `healthz`: the process answers; no dependency is checked (a restart would not help them).
- `readyz`: not draining, and the upstream answered (or accepted a connection)
  recently. The provider never makes us unready: pages fail open without it.
- `metrics`: the proxy's registry in the Prometheus text format.
"""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from proxy.metrics import REGISTRY
from proxy.runtime import RUNTIME

# An upstream that answered within this window counts as reachable without a new probe.
READY_WINDOW = 10.0
PROBE_TIMEOUT = 1.0
NO_STORE = {"Cache-Control": "no-store"}


def ops_routes(prefix: str) -> list[web.RouteDef]:
    prefix = prefix.rstrip("/")
    return [
        web.get(f"{prefix}/healthz", healthz),
        web.get(f"{prefix}/readyz", readyz),
        web.get(f"{prefix}/metrics", metrics),
    ]


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n", headers=NO_STORE)


async def readyz(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if rt.draining:
        return web.Response(status=503, text="draining\n", headers=NO_STORE)
    last = rt.upstream.last_ok
    recent = last is not None and time.monotonic() - last < READY_WINDOW
    if recent or await rt.upstream.probe(PROBE_TIMEOUT):
        return web.Response(text="ready\n", headers=NO_STORE)
    return web.Response(status=503, text="upstream unreachable\n", headers=NO_STORE)


async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        body=generate_latest(REGISTRY),
        headers={"Content-Type": CONTENT_TYPE_LATEST, **NO_STORE},
    )
