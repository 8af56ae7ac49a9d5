"""Call Tracking API statuses and error messages, and the one constructor of every envelope.

Every answer that is not a plain success goes through `envelope()`:
`{"status": ..., "errorMessage": ...}` plus whatever the request still earned
(a WARNING for an exhausted pool keeps the numbers that could be assigned).
The message texts are the constants below; tests format the same constants.

HTTP status: 200 for every documented status, 500 for SYSTEM_ERROR (the
project's decision, see shared/api-docs/README.md).
"""

from __future__ import annotations

from typing import Any

OK = "OK"
MISSING_PARAMETER = "MISSING_PARAMETER"
INVALID_PARAMETER = "INVALID_PARAMETER"
AUTHENTICATION_ERROR = "AUTHENTICATION_ERROR"
SYSTEM_ERROR = "SYSTEM_ERROR"
WARNING = "WARNING"

HTTP_STATUS: dict[str, int] = {SYSTEM_ERROR: 500}

# Message templates; `name` is the request parameter at fault.
MSG_MISSING = "Missing parameter: {name}"
MSG_NOT_INTEGER = "Invalid parameter {name}: expected an integer"
MSG_NEGATIVE = "Invalid parameter {name}: expected 0 or a positive integer"
MSG_NOT_BOOLEAN = "Invalid parameter {name}: expected true or false"
MSG_NOT_IP = "Invalid parameter {name}: expected an IP address"
MSG_NOT_PHONE = "Invalid parameter {name}: {value!r} is not a phone number"
MSG_UNKNOWN_TYPE = (
    "Invalid parameter {name}: no tracking number pool of type {type_id} on this domain"
)
MSG_EXPIRATION = "Invalid parameter expiration: expected -1 (domain default), 0 (now) or seconds"
MSG_CLIENT_DATA = "Invalid parameter client_data: the entry for {key!r} is over 500 characters"
MSG_UNKNOWN_VIEW = "Invalid parameter view_id: no view {view_id} on this domain"
MSG_API_KEY = "Invalid API key"
MSG_EXHAUSTED = "No tracking number available in the pool of type {type_id}"
MSG_NOT_ASSIGNED = "Tracking number {number} is not currently assigned"
MSG_SYSTEM = "Internal error, please retry later"


class OspError(Exception):
    """An answer other than OK, raised by request code and turned into an envelope."""

    def __init__(self, status: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.status, 200)

    def body(self) -> dict[str, Any]:
        return envelope(self.status, self.message, **self.fields)


def envelope(status: str, message: str, **fields: Any) -> dict[str, Any]:
    """The Call Tracking error envelope, with any fields the answer still carries."""
    return {"status": status, "errorMessage": message, **fields}


def missing(name: str) -> OspError:
    return OspError(MISSING_PARAMETER, MSG_MISSING.format(name=name))


def invalid(template: str, **values: Any) -> OspError:
    return OspError(INVALID_PARAMETER, template.format(**values))
