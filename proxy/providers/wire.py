"""HTTP details both clients share: bounded body reads.

Foreign exceptions (aiohttp, json, unicode) are left to each client's translator.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from proxy.providers.errors import BadResponse

MAX_BODY = 64 * 1024
"""A tracking answer is a few hundred bytes; anything this large is not one."""


async def read_json(response: aiohttp.ClientResponse, limit: int = MAX_BODY) -> Any:
    """The response body parsed as JSON; `BadResponse` when it is too large or not JSON."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > limit:
            raise BadResponse(f"HTTP {response.status}: body over {limit} bytes")
    if not body.strip():
        raise BadResponse(f"HTTP {response.status}: empty body")
    return json.loads(body)


def json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value
