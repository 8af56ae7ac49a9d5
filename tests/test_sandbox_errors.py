"""Every Call Tracking error the sandbox gives, with the message constant it must carry."""

from __future__ import annotations

import pytest
from sandbox_helpers import VIEW, sandbox_client

from sandbox import errors as e

ERROR_CASES = [
    # ospView: presence, in the document's order
    pytest.param(
        "/ospView",
        {"api_key": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="api_key"),
        id="view-no-api-key",
    ),
    pytest.param(
        "/ospView",
        {"api_key": ""},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="api_key"),
        id="view-empty-api-key",
    ),
    pytest.param(
        "/ospView",
        {"visit_id": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="visit_id"),
        id="view-no-visit-id",
    ),
    pytest.param(
        "/ospView",
        {"ip": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="ip"),
        id="view-no-ip",
    ),
    pytest.param(
        "/ospView",
        {"url": ""},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="url"),
        id="view-empty-url",
    ),
    pytest.param(
        "/ospView",
        {"page_title": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="page_title"),
        id="view-no-page-title",
    ),
    pytest.param(
        "/ospView",
        {"is_mobile": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="is_mobile"),
        id="view-no-is-mobile",
    ),
    pytest.param(
        "/ospView",
        {"referer_url": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="referer_url"),
        id="view-no-referer",
    ),
    pytest.param(
        "/ospView",
        {"nr_phones": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="nr_phones"),
        id="view-no-nr-phones",
    ),
    pytest.param(
        "/ospView",
        {"direct_display": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="direct_display"),
        id="view-no-direct-display",
    ),
    pytest.param(
        "/ospView",
        {"phones": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="phones"),
        id="view-direct-without-phones",
    ),
    pytest.param(
        "/ospView",
        {"phones": " "},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="phones"),
        id="view-direct-blank-phones",
    ),
    # ospView: types and values
    pytest.param(
        "/ospView",
        {"visit_id": "abc"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_INTEGER.format(name="visit_id"),
        id="view-visit-id-not-integer",
    ),
    pytest.param(
        "/ospView",
        {"visit_id": "-3"},
        e.INVALID_PARAMETER,
        e.MSG_NEGATIVE.format(name="visit_id"),
        id="view-visit-id-negative",
    ),
    pytest.param(
        "/ospView",
        {"nr_phones": "two"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_INTEGER.format(name="nr_phones"),
        id="view-nr-phones-not-integer",
    ),
    pytest.param(
        "/ospView",
        {"is_mobile": "True"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_BOOLEAN.format(name="is_mobile"),
        id="view-is-mobile-python-bool",
    ),
    pytest.param(
        "/ospView",
        {"is_mobile": "yes"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_BOOLEAN.format(name="is_mobile"),
        id="view-is-mobile-yes",
    ),
    pytest.param(
        "/ospView",
        {"direct_display": "2"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_BOOLEAN.format(name="direct_display"),
        id="view-direct-display-not-boolean",
    ),
    pytest.param(
        "/ospView",
        {"ip": "84.72.113"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_IP.format(name="ip"),
        id="view-ip-short",
    ),
    pytest.param(
        "/ospView",
        {"ip": "localhost"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_IP.format(name="ip"),
        id="view-ip-name",
    ),
    pytest.param(
        "/ospView",
        {"type": "99"},
        e.INVALID_PARAMETER,
        e.MSG_UNKNOWN_TYPE.format(name="type", type_id=99),
        id="view-type-unknown",
    ),
    pytest.param(
        "/ospView",
        {"type": "2"},
        e.INVALID_PARAMETER,
        e.MSG_UNKNOWN_TYPE.format(name="type", type_id=2),
        id="view-type-without-pool",
    ),
    pytest.param(
        "/ospView",
        {"type": "x"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_INTEGER.format(name="type"),
        id="view-type-not-integer",
    ),
    pytest.param(
        "/ospView",
        {"phones": "0490260716:99"},
        e.INVALID_PARAMETER,
        e.MSG_UNKNOWN_TYPE.format(name="phones", type_id=99),
        id="view-phone-suffix-unknown",
    ),
    pytest.param(
        "/ospView",
        {"phones": "0490260716,,0450982756"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_PHONE.format(name="phones", value=""),
        id="view-phones-empty-item",
    ),
    pytest.param(
        "/ospView",
        {"phones": "call us"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_PHONE.format(name="phones", value="call us"),
        id="view-phones-not-a-number",
    ),
    pytest.param(
        "/ospView",
        {"expiration": "-2"},
        e.INVALID_PARAMETER,
        e.MSG_EXPIRATION,
        id="view-expiration-below-minus-one",
    ),
    pytest.param(
        "/ospView",
        {"expiration": "soon"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_INTEGER.format(name="expiration"),
        id="view-expiration-not-integer",
    ),
    pytest.param(
        "/ospView",
        {"client_data[0490260716]": "x" * 501},
        e.INVALID_PARAMETER,
        e.MSG_CLIENT_DATA.format(key="0490260716"),
        id="view-client-data-501-chars",
    ),
    pytest.param(
        "/ospView",
        {"api_key": "osp_test_wrong"},
        e.AUTHENTICATION_ERROR,
        e.MSG_API_KEY,
        id="view-unknown-key",
    ),
    # ospClick
    pytest.param(
        "/ospClick",
        {"phone": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="phone"),
        id="click-no-phone",
    ),
    pytest.param(
        "/ospClick",
        {"view_id": "x"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_INTEGER.format(name="view_id"),
        id="click-view-id-not-integer",
    ),
    pytest.param(
        "/ospClick",
        {"view_id": "777"},
        e.INVALID_PARAMETER,
        e.MSG_UNKNOWN_VIEW.format(view_id=777),
        id="click-view-id-unknown",
    ),
    pytest.param(
        "/ospClick",
        {"type": "12"},
        e.INVALID_PARAMETER,
        e.MSG_UNKNOWN_TYPE.format(name="type", type_id=12),
        id="click-type-without-pool",
    ),
    pytest.param(
        "/ospClick",
        {"expiration": "-5"},
        e.INVALID_PARAMETER,
        e.MSG_EXPIRATION,
        id="click-expiration-below-minus-one",
    ),
    pytest.param(
        "/ospClick",
        {"client_data": "y" * 501},
        e.INVALID_PARAMETER,
        e.MSG_CLIENT_DATA.format(key=""),
        id="click-plain-client-data-too-long",
    ),
    pytest.param(
        "/ospClick",
        {"api_key": "nope"},
        e.AUTHENTICATION_ERROR,
        e.MSG_API_KEY,
        id="click-unknown-key",
    ),
    pytest.param(
        "/ospClick",
        {"api_key": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="api_key"),
        id="click-no-api-key",
    ),
    # ospExpiration
    pytest.param(
        "/ospExpiration",
        {"surtax_phone": None},
        e.MISSING_PARAMETER,
        e.MSG_MISSING.format(name="surtax_phone"),
        id="expiration-no-number",
    ),
    pytest.param(
        "/ospExpiration",
        {"surtax_phone": "tomorrow"},
        e.INVALID_PARAMETER,
        e.MSG_NOT_PHONE.format(name="surtax_phone", value="tomorrow"),
        id="expiration-not-a-number",
    ),
    pytest.param(
        "/ospExpiration",
        {"expiration": "-2"},
        e.INVALID_PARAMETER,
        e.MSG_EXPIRATION,
        id="expiration-below-minus-one",
    ),
    pytest.param(
        "/ospExpiration",
        {},
        e.WARNING,
        e.MSG_NOT_ASSIGNED.format(number="08.99.12.34.56"),
        id="expiration-never-assigned",
    ),
    pytest.param(
        "/ospExpiration",
        {"api_key": "osp_test_wrong"},
        e.AUTHENTICATION_ERROR,
        e.MSG_API_KEY,
        id="expiration-unknown-key",
    ),
]

BASE = {
    "/ospView": VIEW,
    "/ospClick": {"phone": "0490260716"},
    "/ospExpiration": {"surtax_phone": "08.99.12.34.56", "expiration": "60"},
}


@pytest.mark.parametrize(("endpoint", "change", "status", "message"), ERROR_CASES)
async def test_error_envelope(
    endpoint: str, change: dict[str, str | None], status: str, message: str
) -> None:
    async with sandbox_client() as osp:
        fields = {"api_key": osp.sandbox.api_key, **BASE[endpoint], **change}
        reply = await osp.post(endpoint, {k: v for k, v in fields.items() if v is not None})
    assert reply.status == 200
    assert reply.body["status"] == status
    assert reply.body["errorMessage"] == message


async def test_errors_record_nothing() -> None:
    async with sandbox_client() as osp:
        await osp.view(ip="not-an-ip")
        await osp.view(api_key="osp_test_wrong")
        visits = await osp.sandbox.get("/sandbox/visits")
        views = await osp.sandbox.get("/sandbox/views")
    assert visits == [] and views == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("is_mobile", "1", id="one-is-true"),
        pytest.param("is_mobile", "0", id="zero-is-false"),
        pytest.param("ip", "2001:db8::1", id="ipv6-visitor"),
        pytest.param("referer_url", "", id="empty-referer"),
        pytest.param("page_title", "", id="empty-title"),
        pytest.param("client_data[0490260716]", "x" * 500, id="client-data-500-chars"),
    ],
)
async def test_accepted_edge_values(name: str, value: str) -> None:
    async with sandbox_client() as osp:
        reply = await osp.view(**{name: value})
    assert reply.body["status"] == "OK"


def test_one_constructor_builds_every_envelope() -> None:
    error = e.OspError(e.SYSTEM_ERROR, e.MSG_SYSTEM)
    assert error.body() == e.envelope(e.SYSTEM_ERROR, e.MSG_SYSTEM)
    assert error.body() == {"status": "SYSTEM_ERROR", "errorMessage": e.MSG_SYSTEM}
    assert error.http_status == 500
    assert e.OspError(e.WARNING, "w").http_status == 200
