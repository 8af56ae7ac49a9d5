"""Test controls under /sandbox/, outside every provider path; JSON in and out.

Reading: GET /sandbox/{visits,views,assignments,clicks,calls} and
/sandbox/freespee/{sessions,assignments,views}, filtered by any column
(`?visit_id=3`) and `limit`; GET /sandbox/requests counts provider requests.
Acting: POST /sandbox/reset, /sandbox/clock, /sandbox/faults (DELETE lifts
them), /sandbox/calls (a simulated inbound call). See sandbox/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.calls import record_call
from sandbox.clock import format_time, parse_time
from sandbox.faults import parse_faults
from sandbox.numbers import format_dotted, normalize
from sandbox.state import SANDBOX, Sandbox
from sandbox.store import TABLES, Row

ROUTES = web.RouteTableDef()

# URL name -> table
LISTS = {
    "visits": "visits",
    "views": "views",
    "assignments": "assignments",
    "clicks": "clicks",
    "calls": "calls",
    "freespee/sessions": "fs_sessions",
    "freespee/assignments": "fs_assignments",
    "freespee/views": "fs_views",
}

# How stored values are shown: times as UTC text, flags as booleans, JSON decoded.
_TIME = (
    "at",
    "started_at",
    "last_view_at",
    "assigned_at",
    "expires_at",
    "created_at",
    "last_seen_at",
)
_SHOW: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(_TIME, format_time),
    **dict.fromkeys(("is_mobile", "direct_display", "expired_redirect"), bool),
    **dict.fromkeys(("client_data", "parameters"), json.loads),
    **dict.fromkeys(("number", "tracking_number"), format_dotted),
}


class ControlError(Exception):
    pass


def _reply(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error(message: str, status: int = 400) -> web.Response:
    return _reply({"error": message}, status)


def show(row: Row, now: float | None = None) -> dict[str, Any]:
    shown = {key: row[key] for key in row.keys()}  # noqa: SIM118 (sqlite3.Row is not a dict)
    for key, value in shown.items():
        if key in _SHOW and value is not None:
            shown[key] = _SHOW[key](value)
    if now is not None and "expires_at" in shown:
        shown["live"] = row["assigned_at"] <= now < row["expires_at"]
    return shown


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise ControlError("expected a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError("expected a JSON object")
    return data


def _control(handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    async def guarded(request: web.Request) -> web.Response:
        try:
            response: web.Response = await handler(request)
        except ControlError as exc:
            return _error(str(exc))
        return response

    return guarded


@ROUTES.get("/sandbox")
async def index(request: web.Request) -> web.Response:
    settings = _sandbox(request).settings
    return _reply({
        "domains": [
            {"name": d.name, "api_key": d.api_key, "default_type": d.default_type,
             "default_expiration": d.default_expiration,
             "pools": [{"type": p.type_id, "size": p.size, "shared_code": p.shared_code}
                       for p in d.pools]}
            for d in settings.domains
        ],
        "advertisers": [
            {"adv_id": a.adv_id, "region": a.region, "prefix": a.prefix, "size": a.size}
            for a in settings.advertisers
        ],
        "lists": [f"/sandbox/{name}" for name in LISTS],
    })  # fmt: skip


@ROUTES.get(r"/sandbox/{name:(visits|views|assignments|clicks|calls|freespee/\w+)}")
@_control
async def list_rows(request: web.Request) -> web.Response:
    table = LISTS.get(request.match_info["name"])
    if table is None:
        return _error(f"no list {request.match_info['name']!r}", 404)
    where: dict[str, Any] = {k: int(v) if v.isdigit() else v for k, v in request.query.items()}
    limit = where.pop("limit", None)
    if limit is not None and not isinstance(limit, int):
        raise ControlError("limit: expected an integer")
    unknown = sorted(set(where) - {"id", *TABLES[table]})
    if unknown:
        raise ControlError(f"{unknown[0]}: no such column; columns: {['id', *TABLES[table]]}")
    sandbox = _sandbox(request)
    now = sandbox.clock()
    return _reply([show(row, now) for row in sandbox.store.rows(table, where, limit)])


@ROUTES.get("/sandbox/requests")
async def requests(request: web.Request) -> web.Response:
    return _reply(_sandbox(request).injector.counts)


@ROUTES.post("/sandbox/reset")
@_control
async def reset(request: web.Request) -> web.Response:
    state = (await _json(request)).get("state", False)
    if not isinstance(state, bool):
        raise ControlError("state: expected true or false")
    _sandbox(request).reset(state=state)
    return _reply({"reset": True, "state": state})


def _clock_reply(sandbox: Sandbox) -> web.Response:
    now = sandbox.clock()
    return _reply({"now": format_time(now), "epoch": now, "frozen": sandbox.clock.frozen})


@ROUTES.get("/sandbox/clock")
async def get_clock(request: web.Request) -> web.Response:
    return _clock_reply(_sandbox(request))


@ROUTES.post("/sandbox/clock")
@_control
async def set_clock(request: web.Request) -> web.Response:
    data = await _json(request)
    sandbox = _sandbox(request)
    before = sandbox.clock()
    if "freeze" in data:
        sandbox.clock.freeze(bool(data["freeze"]))
    if "set" in data:
        sandbox.clock.set(_time(data["set"], "set"))
    if "advance" in data:
        sandbox.clock.advance(_seconds(data["advance"]))
    if sandbox.clock() < before:
        sandbox.restore()
    return _clock_reply(sandbox)


@ROUTES.get("/sandbox/faults")
async def get_faults(request: web.Request) -> web.Response:
    return _reply(_sandbox(request).injector.faults.to_json())


@ROUTES.post("/sandbox/faults")
@_control
async def set_faults(request: web.Request) -> web.Response:
    try:
        faults = parse_faults(await _json(request))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    _sandbox(request).injector.set(faults)
    return _reply(faults.to_json())


@ROUTES.delete("/sandbox/faults")
async def clear_faults(request: web.Request) -> web.Response:
    injector = _sandbox(request).injector
    injector.clear()
    return _reply(injector.faults.to_json())


@ROUTES.post("/sandbox/calls")
@_control
async def simulate_call(request: web.Request) -> web.Response:
    data = await _json(request)
    sandbox = _sandbox(request)
    number = normalize(str(data.get("tracking_number") or ""))
    if not number:
        raise ControlError("tracking_number: expected a tracking number, e.g. 08.99.12.34.56")
    at = _time(data["at"], "at") if data.get("at") is not None else sandbox.clock()
    code, caller = data.get("code"), data.get("caller")
    call = record_call(sandbox.store, sandbox.optico.pools.values(), number, at,
                       code=None if code is None else str(code), caller=caller)  # fmt: skip
    if call is None:
        return _error(f"tracking_number: {data['tracking_number']} is in no pool", 404)
    return _reply(show(call), 201)


def _time(value: object, key: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return parse_time(str(value))
    except ValueError:
        raise ControlError(
            f"{key}: expected 'YYYY-MM-DD HH:MM:SS' (UTC) or epoch seconds"
        ) from None


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError("advance: expected a number of seconds")
    return float(value)
