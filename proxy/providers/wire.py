"""What both clients do with an answer's body: parse it as the JSON object the contract promises.

Foreign exceptions (json, unicode) are left to each client's translator.
"""

from __future__ import annotations

import json
from typing import Any

from proxy.providers.errors import BadResponse
from proxy.providers.http import Answer


def json_body(answer: Answer, limit: int | None = None) -> Any:
    """The answer's body parsed as JSON; `BadResponse` when it is empty, too large or not JSON."""
    if limit is not None and len(answer.body) > limit:
        raise BadResponse(f"HTTP {answer.status}: body over {limit} bytes")
    if not answer.body.strip():
        raise BadResponse(f"HTTP {answer.status}: empty body")
    return json.loads(answer.body)


def json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value
