"""State that lasts: restarts on a database file, simulated calls, the reading controls."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_helpers import number_of, sandbox_client

from sandbox import SandboxConfigError, demo_settings
from sandbox.clock import parse_time
from sandbox.testing import running_sandbox


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    settings = demo_settings({3: 2})
    async with sandbox_client(settings, db) as osp:
        first = await osp.view(phones="0490260716")
    async with sandbox_client(settings, db) as osp:
        same = await osp.view(phones="0490260716", visit_id=str(first.body["visitId"]))
        other = await osp.view(phones="0490260716")
        none_left = await osp.view(phones="0490260716")
        visits = await osp.sandbox.get("/sandbox/visits")
    assert same.body["visitId"] == first.body["visitId"]
    assert same.body["surtaxPhones"] == first.body["surtaxPhones"]
    assert number_of(other, "0490260716") != number_of(first, "0490260716")
    assert other.body["visitId"] > first.body["visitId"]
    assert none_left.body["status"] == "WARNING"
    assert len(visits) == 3


async def test_a_database_made_with_other_pools_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    async with running_sandbox(settings=demo_settings({3: 2}), db=db):
        pass
    with pytest.raises(SandboxConfigError, match="other pool settings"):
        async with running_sandbox(settings=demo_settings({3: 3}), db=db):
            pass


async def test_a_call_is_attributed_to_the_visit_holding_the_number() -> None:
    async with sandbox_client() as osp:
        google = "https://www.google.fr/search?q=plombier+avignon"
        a1 = await osp.view(url="http://site/a1", referer_url=google)
        visit_a = str(a1.body["visitId"])
        await osp.view(url="http://site/b1", referer_url="")
        await osp.view(url="http://site/a2", visit_id=visit_a, referer_url="http://site/a1")
        call = await osp.sandbox.call(number_of(a1, "0490260716"), caller="0612345678")
        await osp.view(url="http://site/a3", visit_id=visit_a)
        calls = await osp.sandbox.get("/sandbox/calls")
    assert call["visit_id"] == a1.body["visitId"]
    assert call["call_path"] == "http://site/a1\nhttp://site/a2"
    assert (call["source"], call["keyword"], call["referer"]) == (
        "Google",
        "plombier avignon",
        "www.google.fr",
    )
    assert (call["phone"], call["caller"], call["url"]) == (
        "0490260716",
        "0612345678",
        "http://site/a1",
    )
    assert call["tracking_number"] == number_of(a1, "0490260716")
    assert call["expired_redirect"] is False
    assert calls == [call]


async def test_a_call_at_a_past_time_goes_to_who_held_the_number_then() -> None:
    async with sandbox_client(demo_settings({3: 1})) as osp:
        await osp.sandbox.set_clock("2026-03-13 10:00:00")
        first = await osp.view(url="http://site/first", expiration="60")
        await osp.sandbox.advance(120)
        second = await osp.view(url="http://site/second")
        number = number_of(first, "0490260716")
        then = await osp.sandbox.call(number, at="2026-03-13 10:00:30")
        gap = await osp.sandbox.call(number, at="2026-03-13 10:01:30")
        now = await osp.sandbox.call(number.replace(".", ""))
    assert number_of(second, "0490260716") == number
    assert then["visit_id"] == first.body["visitId"]
    assert (gap["visit_id"], gap["expired_redirect"], gap["phone"]) == (None, True, "0490260716")
    assert now["visit_id"] == second.body["visitId"]


async def test_a_call_on_a_shared_number_finds_the_visit_by_its_code() -> None:
    async with sandbox_client(demo_settings({3: 10, 5: 1}, shared={5})) as osp:
        replies = [await osp.view(phones="0490260716:5") for _ in range(3)]
        shown = replies[1].body["surtaxPhones"]["0490260716"]
        call = await osp.sandbox.call(shown["surtaxPhoneNumber"], code=shown["surtaxPhoneCode"])
    assert call["visit_id"] == replies[1].body["visitId"]
    assert call["code"] == shown["surtaxPhoneCode"]


async def test_a_pool_number_never_assigned_is_an_expired_redirect_to_no_phone() -> None:
    async with sandbox_client(demo_settings({3: 2})) as osp:
        number = number_of(await osp.view(phones="0490260716"), "0490260716")
        unused = osp.sandbox.state.optico.pools[("demo.example", 3)].number(1)
        call = await osp.sandbox.call(unused)
    assert unused != number.replace(".", "")
    assert (call["expired_redirect"], call["phone"], call["visit_id"]) == (True, None, None)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        pytest.param(
            {"tracking_number": "01.23.45.67.89"},
            404,
            "tracking_number: 01.23.45.67.89 is in no pool",
            id="not-in-a-pool",
        ),
        pytest.param(
            {},
            400,
            "tracking_number: expected a tracking number, e.g. 08.99.12.34.56",
            id="missing",
        ),
        pytest.param(
            {"tracking_number": "0899123456", "at": "yesterday"},
            400,
            "at: expected 'YYYY-MM-DD HH:MM:SS' (UTC) or epoch seconds",
            id="bad-time",
        ),
    ],
)
async def test_bad_simulated_calls(body: dict[str, str], status: int, error: str) -> None:
    async with (
        sandbox_client() as osp,
        osp.http.post(osp.sandbox.url + "/sandbox/calls", json=body) as response,
    ):
        assert (response.status, await response.json()) == (status, {"error": error})


async def test_lists_filter_by_column_and_limit() -> None:
    async with sandbox_client() as osp:
        first = await osp.view()
        await osp.view()
        await osp.view(visit_id=str(first.body["visitId"]))
        mine = await osp.sandbox.get(f"/sandbox/views?visit_id={first.body['visitId']}")
        one = await osp.sandbox.get("/sandbox/views?limit=1")
        assignments = await osp.sandbox.get(
            f"/sandbox/assignments?visit_id={first.body['visitId']}"
        )
    assert [v["visit_id"] for v in mine] == [first.body["visitId"]] * 2
    assert len(one) == 1
    assert {a["phone"] for a in assignments} == {"0490260716", "0450982756"}
    assert all(a["live"] for a in assignments)


async def test_clock_control() -> None:
    async with sandbox_client() as osp:
        await osp.sandbox.set_clock("2026-03-13 14:20:00")
        frozen = await osp.sandbox.get("/sandbox/clock")
        await osp.sandbox.advance(90)
        later = await osp.sandbox.get("/sandbox/clock")
    assert frozen == {
        "now": "2026-03-13 14:20:00",
        "epoch": parse_time("2026-03-13 14:20:00"),
        "frozen": True,
    }
    assert later["now"] == "2026-03-13 14:21:30"


async def test_moving_the_clock_back_sees_numbers_held_then() -> None:
    async with sandbox_client(demo_settings({3: 1})) as osp:
        await osp.sandbox.set_clock("2026-03-13 10:00:00")
        first = await osp.view(phones="0490260716", expiration="60")
        await osp.sandbox.advance(120)
        await osp.sandbox.set_clock("2026-03-13 10:00:30")
        refused = await osp.view(phones="0490260716")
    assert first.body["status"] == "OK"
    assert refused.body["status"] == "WARNING"


async def test_index_lists_domains_advertisers_and_lists() -> None:
    async with sandbox_client() as osp:
        index = await osp.sandbox.get("/sandbox")
    assert index["domains"][0]["api_key"] == "osp_test_demo_key"
    assert {p["type"] for p in index["domains"][0]["pools"]} == {1, 3, 5, 6}
    assert index["advertisers"][0]["adv_id"] == "demo"
    assert "/sandbox/freespee/sessions" in index["lists"]


async def test_lists_refuse_unknown_columns() -> None:
    async with (
        sandbox_client() as osp,
        osp.http.get(osp.sandbox.url + "/sandbox/views?visitor=3") as response,
    ):
        body = await response.json()
    assert response.status == 400
    assert body["error"].startswith("visitor: no such column; columns: ['id', 'visit_id',")
