"""Talking to a running sandbox as an integrator would: form posts, signed Freespee bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox import SandboxSettings
from sandbox.testing import RunningSandbox, running_sandbox, sign

# The document's direct display example, as a page of the demo site would send it.
VIEW: dict[str, str] = {
    "visit_id": "0",
    "ip": "84.72.113.98",
    "url": "http://www.mysite.com/contact",
    "page_title": "Contact Us",
    "is_mobile": "false",
    "referer_url": "http://www.google.com/",
    "nr_phones": "2",
    "direct_display": "true",
    "phones": "0490260716,0450982756",
    "user_agent": "Mozilla/5.0 ...",
}


@dataclass
class Reply:
    status: int
    body: Any


@dataclass
class Client:
    """One sandbox and one HTTP client session; every call returns the HTTP status and JSON."""

    sandbox: RunningSandbox
    http: aiohttp.ClientSession

    async def post(self, endpoint: str, fields: dict[str, str]) -> Reply:
        async with self.http.post(self.sandbox.url + endpoint, data=fields) as response:
            return Reply(response.status, await response.json(content_type=None))

    async def view(self, **fields: str) -> Reply:
        return await self.post("/ospView", {"api_key": self.sandbox.api_key, **VIEW, **fields})

    async def click(self, **fields: str) -> Reply:
        return await self.post("/ospClick", {"api_key": self.sandbox.api_key, **fields})

    async def expiration(self, **fields: str) -> Reply:
        return await self.post("/ospExpiration", {"api_key": self.sandbox.api_key, **fields})

    async def freespee(
        self, body: dict[str, Any] | bytes, *, statuses: bool = False, signature: str | None = None
    ) -> Reply:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        headers["X-SIGN"] = (
            signature if signature is not None else sign(self.sandbox.freespee_secret, raw)
        )
        if statuses:
            headers["X-HTTP-STATUSES"] = "1"
        async with self.http.post(self.sandbox.freespee_url, data=raw, headers=headers) as response:
            return Reply(response.status, await response.json(content_type=None))


def freespee_body(sandbox: RunningSandbox, **fields: Any) -> dict[str, Any]:
    """A complete web request for the demo advertiser, the document's German number on the page."""
    body: dict[str, Any] = {
        "advId": sandbox.adv_id,
        "fullUrl": "https://www.example.de/angebot",
        "trackingId": "visitor-1",
        "numbers": "+493015981100",
        "type": "web",
        "fullReferrer": "https://www.google.de/",
        "parameters": {"custnr": "42", "custname": "Muster GmbH", "custemail": "a@example.de"},
        "userAgent": "Mozilla/5.0 ...",
        "requestIpAddress": "84.72.113.0",
        "sessionId": "",
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def number_of(reply: Reply, phone: str) -> str:
    number: str = reply.body["surtaxPhones"][phone]["surtaxPhoneNumber"]
    return number


@asynccontextmanager
async def sandbox_client(
    settings: SandboxSettings | None = None, db: str = ":memory:"
) -> AsyncIterator[Client]:
    async with (
        running_sandbox(settings=settings, db=db) as sandbox,
        aiohttp.ClientSession() as http,
    ):
        yield Client(sandbox, http)
