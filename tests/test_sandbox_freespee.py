"""The Freespee Dynamic Numbers endpoint: signature, errors in both status modes, sessions."""

from __future__ import annotations

import re
import uuid

import pytest
from sandbox_helpers import freespee_body, sandbox_client

from sandbox import demo_settings
from sandbox import freespee as fs

DOCUMENT_BODY = b'{"advid":"123","numbers":"321"}'
DOCUMENT_SIGNATURE = "bdc98a82e1d0c873ea95c35c2e7decbd3752a2fb"


def test_signature_vector_of_the_document() -> None:
    assert fs.sign("freespee", DOCUMENT_BODY) == DOCUMENT_SIGNATURE
    assert fs.sign(b"freespee", DOCUMENT_BODY) == DOCUMENT_SIGNATURE


@pytest.mark.parametrize(
    ("e164", "local"),
    [
        pytest.param("+493015981158", "030 15 98 11 58", id="document-example-berlin"),
        pytest.param("+33490260716", "04 90 26 07 16", id="france"),
        pytest.param("+4989123456", "089 12 34 56", id="munich-even"),
        pytest.param("+49891234567", "089 123 45 67", id="munich-odd"),
    ],
)
def test_local_form(e164: str, local: str) -> None:
    assert fs.local_format(e164) == local


async def test_the_document_example_answers_a_german_number() -> None:
    async with sandbox_client() as osp:
        reply = await osp.freespee(freespee_body(osp.sandbox))
    assert reply.status == 200
    assert reply.body["success"] is True
    assert "error" not in reply.body
    (number,) = reply.body["numbers"]
    assert number["number_on_page"] == "+493015981100"
    e164, local = number["replace_with"]["e164"], number["replace_with"]["local"]
    assert re.fullmatch(r"\+49301598\d{4}", e164)
    assert re.fullmatch(r"030 15 98 \d\d \d\d", local)
    assert local == fs.local_format(e164)
    uuid.UUID(reply.body["sessionId"])


async def test_signature_in_the_query_string() -> None:
    async with sandbox_client() as osp:
        raw = b'{"advId": "demo"}'
        query = {"sign": fs.sign(osp.sandbox.freespee_secret, raw)}
        async with osp.http.post(osp.sandbox.freespee_url, data=raw, params=query) as response:
            body = await response.json()
    assert body == {"success": False, "error": fs.MSG_MISSING.format(name="fullUrl")}


async def test_the_signature_covers_the_exact_bytes() -> None:
    async with sandbox_client() as osp:
        body = freespee_body(osp.sandbox)
        signed = fs.sign(osp.sandbox.freespee_secret, b'{"advId": "demo"}')
        reply = await osp.freespee(body, signature=signed)
    assert reply.body == {"success": False, "error": fs.MSG_BAD_SIGNATURE}


async def test_the_same_session_keeps_its_numbers() -> None:
    async with sandbox_client() as osp:
        first = await osp.freespee(
            freespee_body(osp.sandbox, numbers="+493015981100,030 1598 1101")
        )
        again = await osp.freespee(freespee_body(osp.sandbox, sessionId=first.body["sessionId"]))
        other = await osp.freespee(freespee_body(osp.sandbox))
        sessions = await osp.sandbox.get("/sandbox/freespee/sessions")
        views = await osp.sandbox.get("/sandbox/freespee/views")
    assert [n["number_on_page"] for n in first.body["numbers"]] == [
        "+493015981100",
        "+493015981101",
    ]
    assert again.body["sessionId"] == first.body["sessionId"]
    assert again.body["numbers"] == first.body["numbers"][:1]
    assert other.body["sessionId"] != first.body["sessionId"]
    assert other.body["numbers"][0]["replace_with"] != first.body["numbers"][0]["replace_with"]
    assert len(sessions) == 2 and len(views) == 3
    assert views[0]["parameters"]["custnr"] == "42"


@pytest.mark.parametrize(
    ("idle", "kept"),
    [pytest.param(1799, True, id="within-ttl"), pytest.param(1801, False, id="after-ttl")],
)
async def test_a_session_ends_after_its_ttl_without_requests(idle: int, kept: bool) -> None:
    async with sandbox_client() as osp:
        first = await osp.freespee(freespee_body(osp.sandbox))
        await osp.sandbox.advance(idle)
        again = await osp.freespee(freespee_body(osp.sandbox, sessionId=first.body["sessionId"]))
    assert (again.body["sessionId"] == first.body["sessionId"]) is kept


async def test_an_unknown_session_gets_a_new_one() -> None:
    async with sandbox_client() as osp:
        reply = await osp.freespee(freespee_body(osp.sandbox, sessionId="40846be9-88de-4120"))
    assert reply.body["success"] is True
    assert reply.body["sessionId"] != "40846be9-88de-4120"


async def test_an_empty_pool_answers_no_number() -> None:
    async with sandbox_client(demo_settings(freespee_pool_size=1)) as osp:
        await osp.freespee(freespee_body(osp.sandbox))
        reply = await osp.freespee(freespee_body(osp.sandbox), statuses=True)
    assert (reply.status, reply.body) == (500, {"success": False, "error": fs.MSG_NO_NUMBER})


M = fs.MSG_MISSING.format
I = fs.MSG_INVALID.format  # noqa: E741

ERROR_CASES = [
    pytest.param(b"{not json", 400, fs.MSG_INVALID_JSON, id="not-json"),
    pytest.param(b"[1, 2]", 400, fs.MSG_INVALID_JSON, id="not-an-object"),
    pytest.param({"advId": None}, 400, M(name="advId"), id="no-adv-id"),
    pytest.param(
        {"advId": "acme"},
        403,
        fs.MSG_UNKNOWN_ADVERTISER.format(adv_id="acme"),
        id="unknown-advertiser",
    ),
    pytest.param({"fullUrl": None}, 400, M(name="fullUrl"), id="no-full-url"),
    pytest.param({"trackingId": ""}, 400, M(name="trackingId"), id="empty-tracking-id"),
    pytest.param({"numbers": None}, 400, M(name="numbers"), id="no-numbers"),
    pytest.param({"type": None}, 400, M(name="type"), id="no-type"),
    pytest.param({"type": "tv"}, 400, I(name="type"), id="unknown-type"),
    pytest.param({"userAgent": None}, 400, M(name="userAgent"), id="web-without-user-agent"),
    pytest.param({"requestIpAddress": None}, 400, M(name="requestIpAddress"), id="web-without-ip"),
    pytest.param({"fullUrl": 42}, 400, I(name="fullUrl"), id="url-not-a-string"),
    pytest.param({"numbers": "call us"}, 400, I(name="numbers"), id="numbers-not-phones"),
    pytest.param({"parameters": ["x"]}, 400, I(name="parameters"), id="parameters-not-an-object"),
    pytest.param(
        {"parameters": {"custnr": "1" * 46}},
        400,
        fs.MSG_TOO_LONG.format(name="custnr", limit=45),
        id="custnr-over-45",
    ),
    pytest.param(
        {"parameters": {"custname": "n" * 61}},
        400,
        fs.MSG_TOO_LONG.format(name="custname", limit=60),
        id="custname-over-60",
    ),
    pytest.param(
        {"parameters": {"custemail": "e" * 151}},
        400,
        fs.MSG_TOO_LONG.format(name="custemail", limit=150),
        id="custemail-over-150",
    ),
    pytest.param({"parameters": {"adId": 7}}, 400, I(name="adId"), id="dimension-not-a-string"),
]


@pytest.mark.parametrize(
    "statuses", [pytest.param(False, id="legacy"), pytest.param(True, id="statuses")]
)
@pytest.mark.parametrize(("change", "http_status", "message"), ERROR_CASES)
async def test_errors(
    change: dict[str, object] | bytes, http_status: int, message: str, statuses: bool
) -> None:
    async with sandbox_client() as osp:
        body = change if isinstance(change, bytes) else freespee_body(osp.sandbox, **change)
        reply = await osp.freespee(body, statuses=statuses)
    assert reply.status == (http_status if statuses else 200)
    assert reply.body == fs.error_body(message) == {"success": False, "error": message}


@pytest.mark.parametrize(
    "statuses", [pytest.param(False, id="legacy"), pytest.param(True, id="statuses")]
)
@pytest.mark.parametrize(
    ("signature", "message"),
    [
        pytest.param("", fs.MSG_MISSING_SIGNATURE, id="missing"),
        pytest.param("0" * 40, fs.MSG_BAD_SIGNATURE, id="wrong"),
    ],
)
async def test_signature_errors(signature: str, message: str, statuses: bool) -> None:
    async with sandbox_client() as osp:
        reply = await osp.freespee(
            freespee_body(osp.sandbox), signature=signature, statuses=statuses
        )
    assert (reply.status, reply.body) == (403 if statuses else 200, fs.error_body(message))


async def test_app_requests_need_no_user_agent_or_ip() -> None:
    async with sandbox_client() as osp:
        body = freespee_body(osp.sandbox, type="app", userAgent=None, requestIpAddress=None)
        reply = await osp.freespee(body, statuses=True)
    assert (reply.status, reply.body["success"]) == (200, True)


async def test_the_document_error_example() -> None:
    async with sandbox_client() as osp:
        reply = await osp.freespee(freespee_body(osp.sandbox, advId=None))
    assert reply.body == {"success": False, "error": "Missing parameter: advId"}


async def test_a_session_in_use_keeps_its_numbers_from_other_sessions() -> None:
    async with sandbox_client(demo_settings(freespee_pool_size=1)) as osp:
        first = await osp.freespee(freespee_body(osp.sandbox))
        await osp.sandbox.advance(1000)
        await osp.freespee(freespee_body(osp.sandbox, sessionId=first.body["sessionId"]))
        await osp.sandbox.advance(1000)
        other = await osp.freespee(freespee_body(osp.sandbox))
        await osp.sandbox.advance(1000)
        later = await osp.freespee(freespee_body(osp.sandbox))
    assert other.body == {"success": False, "error": fs.MSG_NO_NUMBER}
    assert later.body["numbers"] == first.body["numbers"]
