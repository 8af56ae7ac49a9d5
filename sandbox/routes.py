"""The provider endpoints as the real services expose them: Optico's three and Freespee's one.

Each request is counted and passes the injected faults first (faults.py); then
the body is read, the platform answers, and any error leaves through its
provider's one envelope constructor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox import errors, freespee, params
from sandbox.errors import OspError
from sandbox.state import SANDBOX, Sandbox

OpticoCall = Callable[[Sandbox, params.Form, bool], dict[str, Any]]

ROUTES = web.RouteTableDef()


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def _view(sandbox: Sandbox, form: params.Form, exhausted: bool) -> dict[str, Any]:
    domain = sandbox.optico.authenticate(form.get("api_key"))
    return sandbox.optico.view(domain, params.view_params(form, domain), exhausted=exhausted)


def _click(sandbox: Sandbox, form: params.Form, exhausted: bool) -> dict[str, Any]:
    domain = sandbox.optico.authenticate(form.get("api_key"))
    return sandbox.optico.click(domain, params.click_params(form, domain), exhausted=exhausted)


def _expiration(sandbox: Sandbox, form: params.Form, exhausted: bool) -> dict[str, Any]:
    domain = sandbox.optico.authenticate(form.get("api_key"))
    return sandbox.optico.expiration(domain, params.expiration_params(form))


OPTICO_ENDPOINTS: dict[str, OpticoCall] = {
    "ospView": _view,
    "ospClick": _click,
    "ospExpiration": _expiration,
}

OPTICO_SYSTEM_ERROR = errors.OspError(errors.SYSTEM_ERROR, errors.MSG_SYSTEM)


def _optico_system_error() -> web.Response:
    return json_response(OPTICO_SYSTEM_ERROR.body(), OPTICO_SYSTEM_ERROR.http_status)


def _optico_handler(endpoint: str, call: OpticoCall) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        sandbox = request.app[SANDBOX]
        raw = await request.read()  # before any fault: a client gone by then is no error
        outcome = await sandbox.injector.apply(endpoint, request, _optico_system_error)
        if isinstance(outcome, web.Response):
            return outcome
        form = params.read_form(raw)
        try:
            body = call(sandbox, form, outcome)
        except OspError as exc:
            return json_response(exc.body(), exc.http_status)
        sandbox.written()
        return json_response(body)

    return handle


for _endpoint, _call in OPTICO_ENDPOINTS.items():
    ROUTES.post(f"/{_endpoint}")(_optico_handler(_endpoint, _call))


@ROUTES.post(freespee.FREESPEE_PATH)
async def freespee_numbers(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    statuses = freespee.STATUSES_HEADER in request.headers

    def system_error() -> web.Response:
        return _freespee_error(freespee.FreespeeError(500, freespee.MSG_SYSTEM), statuses)

    raw = await request.read()  # before any fault: a client gone by then is no error
    outcome = await sandbox.injector.apply("freespee", request, system_error)
    if isinstance(outcome, web.Response):
        return outcome
    signature = request.headers.get(freespee.SIGN_HEADER) or request.query.get(freespee.SIGN_QUERY)
    try:
        parsed = freespee.parse_request(raw, signature, sandbox.settings)
        return json_response(sandbox.freespee.answer(parsed, exhausted=outcome))
    except freespee.FreespeeError as exc:
        return _freespee_error(exc, statuses)
    finally:
        sandbox.written()


def _freespee_error(exc: freespee.FreespeeError, statuses: bool) -> web.Response:
    """200 by default, the real status when the client sent X-HTTP-STATUSES."""
    return json_response(freespee.error_body(exc.message), exc.http_status if statuses else 200)
