"""JSON logs on stderr: one line per request, plus the few events worth a line of their own.

Every line goes through `JsonFormatter`, which replaces each configured secret
(provider API keys, the token secret) by `[redacted]` in the finished line, so
no code path, exception text included, can write one out.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

ACCESS = logging.getLogger("dni_edge.access")
EVENTS = logging.getLogger("dni_edge")

REDACTED = "[redacted]"
# A client's X-Request-Id is kept if it looks like an id; anything else is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(incoming: str | None) -> str:
    """The client's X-Request-Id when it is a plain token, else a new random one."""
    if incoming and _REQUEST_ID.fullmatch(incoming):
        return incoming
    return f"{random.getrandbits(64):016x}"  # an id, not a secret: no system call needed


@dataclass
class RequestRecord:
    """What the request log line says; filled in as the request goes through the proxy."""

    request_id: str
    method: str
    path: str
    status: int = 0
    bytes: int = 0
    upstream_ms: float | None = None
    provider_ms: float | None = None
    phones_found: int = 0
    phones_swapped: int = 0
    outcome: str = "passthrough"
    reason: str | None = None

    def fields(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies recursively, a cost paid on every request.
        return {k: v for k, v in vars(self).items() if v is not None}


def log_request(record: RequestRecord) -> None:
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    if _direct is not None and logging.root.handlers == [_direct.handler]:
        _direct.write(record.fields())  # the usual case: our one handler, and no other
        return
    ACCESS.info("request", extra={"fields": record.fields()})


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    EVENTS.log(level, event, extra={"fields": fields})


# One encoder for every line: json.dumps with any option builds a new one per call.
_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False).encode


class JsonFormatter(logging.Formatter):
    """`{"ts": ..., "level": ..., "logger": ..., "msg": ..., <fields>}`, secrets redacted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        if record.exc_info:
            fields = {**fields, "exc": self.formatException(record.exc_info)}
        level = record.levelname.lower()
        return self.line(record.created, level, record.name, record.getMessage(), fields)

    def line(
        self, created: float, level: str, logger: str, msg: str, fields: dict[str, Any]
    ) -> str:
        line: dict[str, Any] = {
            "ts": self._timestamp(created),
            "level": level,
            "logger": logger,
            "msg": msg,
        }
        line.update(fields)
        return self.redact(_ENCODE(line))

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:  # strftime once a second, not once a line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class _DirectAccess:
    """The request line written straight to the configured handler's stream: the logging
    machinery (a record, filters, locks) cost twice the line itself, once per request."""

    def __init__(self, handler: logging.StreamHandler[IO[str]], formatter: JsonFormatter) -> None:
        self.handler = handler
        self._formatter = formatter

    def write(self, fields: dict[str, Any]) -> None:
        line = self._formatter.line(time.time(), "info", ACCESS.name, "request", fields)
        stream = self.handler.stream
        stream.write(line + "\n")
        stream.flush()


_direct: _DirectAccess | None = None


class _QuietParserErrors(logging.Filter):
    """aiohttp logs every malformed request with a traceback: a log flood under attack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "aiohttp.server" and record.levelno >= logging.ERROR:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def configure(
    level: str = "info", secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> None:
    """Send every log record, as one JSON line, to `stream` (stderr by default)."""
    # No caller, thread or process lookups per record (the logging HOWTO's
    # optimisation): a line per request must stay cheap, and our lines do not use them.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    global _direct
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter(secrets)
    handler.setFormatter(formatter)
    handler.addFilter(_QuietParserErrors())
    _direct = _DirectAccess(handler, formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").disabled = True
