"""The Call Tracking API of the sandbox, over HTTP on loopback, as the document describes it."""

from __future__ import annotations

import re

import pytest
from sandbox_helpers import VIEW, number_of, sandbox_client

from sandbox import DomainSettings, PoolSettings, SandboxSettings, demo_settings
from sandbox.errors import MSG_EXHAUSTED, MSG_NOT_ASSIGNED

DOTTED = re.compile(r"^\d{2}(\.\d{2})+$")

# --- the document's examples -------------------------------------------------------


async def test_direct_display_example() -> None:
    async with sandbox_client() as osp:
        reply = await osp.view()
    assert reply.status == 200
    assert reply.body["status"] == "OK"
    assert isinstance(reply.body["visitId"], int) and isinstance(reply.body["viewId"], int)
    assert set(reply.body["surtaxPhones"]) == {"0490260716", "0450982756"}
    for shown in reply.body["surtaxPhones"].values():
        assert set(shown) == {"surtaxPhoneNumber", "surtaxPhoneCode"}
        assert DOTTED.match(shown["surtaxPhoneNumber"])
        assert shown["surtaxPhoneCode"] is None
    assert "clientData" not in reply.body


async def test_click_display_example() -> None:
    async with sandbox_client() as osp:
        page = await osp.view(direct_display="false", nr_phones="1", phones="")
        click = await osp.click(view_id=str(page.body["viewId"]), phone="0490260716")
    assert page.body == {
        "status": "OK",
        "visitId": page.body["visitId"],
        "viewId": page.body["viewId"],
    }
    assert click.status == 200
    assert click.body["status"] == "OK"
    assert click.body["visitId"] == page.body["visitId"]
    assert click.body["viewId"] == page.body["viewId"]
    assert set(click.body["surtaxPhone"]) == {"surtaxPhoneNumber", "surtaxPhoneCode"}
    assert DOTTED.match(click.body["surtaxPhone"]["surtaxPhoneNumber"])


async def test_expiration_example_extend_then_release() -> None:
    settings = demo_settings({32: 10}, default_type=32, shared=())
    async with sandbox_client(settings) as osp:
        await osp.sandbox.set_clock("2026-03-13 14:20:00")
        number = number_of(await osp.view(phones="0490260716"), "0490260716")
        extended = await osp.expiration(surtax_phone=number, expiration="600")
        released = await osp.expiration(surtax_phone=number, expiration="0")
        again = await osp.expiration(surtax_phone=number, expiration="600")
    assert number.startswith("08.90.")
    assert extended.body == {
        "status": "OK",
        "surtaxPhone": number,
        "expiresAt": "2026-03-13 14:30:00",
    }
    assert released.body == {
        "status": "OK",
        "surtaxPhone": number,
        "expiresAt": "2026-03-13 14:20:00",
    }
    assert again.status == 200
    assert again.body["status"] == "WARNING"
    assert again.body["errorMessage"] == MSG_NOT_ASSIGNED.format(number=number)


# --- numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "prefix"),
    [
        pytest.param(":1", "08.00.", id="type-1-0800"),
        pytest.param(":5", "08.99.", id="type-5-0899"),
        pytest.param(":6", "01.", id="type-6-01"),
        pytest.param("", "09.", id="domain-default-type-3-09"),
    ],
)
async def test_each_phone_draws_from_its_type(suffix: str, prefix: str) -> None:
    async with sandbox_client() as osp:
        reply = await osp.view(phones=f"0490260716{suffix}", nr_phones="1")
    assert number_of(reply, "0490260716").startswith(prefix)


async def test_type_parameter_sets_the_pool_of_phones_without_suffix() -> None:
    async with sandbox_client() as osp:
        reply = await osp.view(phones="0490260716,0450982756:1", type="6")
    assert number_of(reply, "0490260716").startswith("01.")
    assert number_of(reply, "0450982756").startswith("08.00.")


async def test_shared_pool_gives_one_number_with_a_code_per_visitor() -> None:
    async with sandbox_client(demo_settings({3: 1, 5: 1}, shared={5})) as osp:
        replies = [await osp.view(phones="0490260716:5") for _ in range(3)]
    shown = [r.body["surtaxPhones"]["0490260716"] for r in replies]
    assert len({s["surtaxPhoneNumber"] for s in shown}) == 1
    codes = [s["surtaxPhoneCode"] for s in shown]
    assert len(set(codes)) == 3
    assert all(re.fullmatch(r"\d{4}", code) for code in codes)


async def test_a_visit_keeps_its_number_across_views_and_each_view_extends_it() -> None:
    async with sandbox_client() as osp:
        first = await osp.view()
        expiry = (await osp.sandbox.get("/sandbox/assignments"))[0]["expires_at"]
        await osp.sandbox.advance(600)
        second = await osp.view(visit_id=str(first.body["visitId"]))
        rows = await osp.sandbox.get("/sandbox/assignments")
    assert second.body["visitId"] == first.body["visitId"]
    assert second.body["viewId"] != first.body["viewId"]
    assert second.body["surtaxPhones"] == first.body["surtaxPhones"]
    assert len(rows) == 2
    assert rows[0]["expires_at"] > expiry


async def test_a_number_is_never_live_for_two_visits_and_exhaustion_warns() -> None:
    async with sandbox_client(demo_settings({3: 3})) as osp:
        replies = [await osp.view(phones="0490260716") for _ in range(4)]
        views = await osp.sandbox.get("/sandbox/views")
    numbers = [r.body["surtaxPhones"].get("0490260716") for r in replies]
    assert len({n["surtaxPhoneNumber"] for n in numbers[:3]}) == 3
    last = replies[3]
    assert last.status == 200
    assert last.body["status"] == "WARNING"
    assert last.body["errorMessage"] == MSG_EXHAUSTED.format(type_id=3)
    assert last.body["surtaxPhones"] == {}
    assert isinstance(last.body["viewId"], int)
    assert len(views) == 4


async def test_exhaustion_still_returns_what_could_be_assigned() -> None:
    async with sandbox_client(demo_settings({3: 1, 6: 5})) as osp:
        await osp.view(phones="0490260716,0450982756:6")
        reply = await osp.view(phones="0490260716,0450982756:6")
    assert reply.body["status"] == "WARNING"
    assert list(reply.body["surtaxPhones"]) == ["0450982756"]


async def test_a_number_returns_to_the_pool_when_it_expires() -> None:
    async with sandbox_client(demo_settings({3: 1})) as osp:
        first = await osp.view(phones="0490260716")
        refused = await osp.view(phones="0490260716")
        await osp.sandbox.advance(1801)
        later = await osp.view(phones="0490260716")
    assert refused.body["status"] == "WARNING"
    assert later.body["status"] == "OK"
    assert later.body["surtaxPhones"] == first.body["surtaxPhones"]


async def test_osp_expiration_zero_releases_the_number_at_once() -> None:
    async with sandbox_client(demo_settings({3: 1})) as osp:
        number = number_of(await osp.view(phones="0490260716"), "0490260716")
        released = await osp.expiration(surtax_phone=number, expiration="0")
        reply = await osp.view(phones="0490260716")
    assert released.body["status"] == "OK"
    assert number_of(reply, "0490260716") == number


@pytest.mark.parametrize(
    ("expiration", "advance", "free"),
    [
        pytest.param("0", 0, True, id="zero-expires-at-once"),
        pytest.param("60", 59, False, id="sixty-still-held-at-59s"),
        pytest.param("60", 61, True, id="sixty-free-at-61s"),
        pytest.param("-1", 1799, False, id="domain-default-held-at-1799s"),
    ],
)
async def test_view_expiration_parameter(expiration: str, advance: int, free: bool) -> None:
    async with sandbox_client(demo_settings({3: 1})) as osp:
        await osp.view(phones="0490260716", expiration=expiration)
        await osp.sandbox.advance(advance)
        reply = await osp.view(phones="0490260716")
    assert (reply.body["status"] == "OK") is free


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(lambda n: n, id="dotted"),
        pytest.param(lambda n: n.replace(".", ""), id="digits"),
        pytest.param(lambda n: n.replace(".", " "), id="spaced"),
        pytest.param(lambda n: "+33 " + n.replace(".", "")[1:], id="international"),
        pytest.param(lambda n: "0033" + n.replace(".", "")[1:], id="double-zero"),
    ],
)
async def test_osp_expiration_accepts_any_written_form(written) -> None:  # type: ignore[no-untyped-def]
    async with sandbox_client() as osp:
        number = number_of(await osp.view(), "0490260716")
        sent = written(number)
        reply = await osp.expiration(surtax_phone=sent, expiration="120")
    assert reply.body["status"] == "OK"
    assert reply.body["surtaxPhone"] == sent


# --- visits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle", "same_visit"),
    [
        pytest.param(1799, True, id="within-30-minutes"),
        pytest.param(1801, False, id="after-30-minutes"),
    ],
)
async def test_a_visit_ends_after_thirty_minutes_without_a_view(
    idle: int, same_visit: bool
) -> None:
    async with sandbox_client() as osp:
        first = await osp.view()
        await osp.sandbox.advance(idle)
        second = await osp.view(visit_id=str(first.body["visitId"]))
    assert (second.body["visitId"] == first.body["visitId"]) is same_visit


async def test_an_unknown_visit_id_opens_a_new_visit() -> None:
    async with sandbox_client() as osp:
        reply = await osp.view(visit_id="4242")
    assert reply.body["status"] == "OK"
    assert reply.body["visitId"] != 4242


async def test_a_visit_of_another_domain_is_not_joined() -> None:
    other = DomainSettings("other.example", "osp_test_other", (PoolSettings(3, 10),))
    settings = demo_settings()
    settings = SandboxSettings((*settings.domains, other), settings.advertisers)
    async with sandbox_client(settings) as osp:
        first = await osp.view()
        second = await osp.view(api_key="osp_test_other", visit_id=str(first.body["visitId"]))
    assert second.body["visitId"] != first.body["visitId"]
    assert number_of(second, "0490260716") != number_of(first, "0490260716")


async def test_every_view_is_recorded_with_its_source_and_keyword() -> None:
    async with sandbox_client() as osp:
        await osp.view(
            referer_url="https://www.bing.com/search?q=plombier+avignon",
            is_mobile="true",
            unique_visitor_id="uv-1",
            unique_view_id="uw-1",
        )
        (view,) = await osp.sandbox.get("/sandbox/views")
        (visit,) = await osp.sandbox.get("/sandbox/visits")
    assert view["url"] == VIEW["url"]
    assert view["page_title"] == "Contact Us"
    assert view["ip"] == "84.72.113.98"
    assert view["user_agent"] == "Mozilla/5.0 ..."
    assert view["is_mobile"] is True
    assert (view["unique_visitor_id"], view["unique_view_id"]) == ("uv-1", "uw-1")
    assert (view["source"], view["keyword"]) == ("Bing", "plombier avignon")
    assert (visit["source"], visit["keyword"], visit["referer"]) == (
        "Bing",
        "plombier avignon",
        "www.bing.com",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", view["at"])


# --- clicks and client data ----------------------------------------------------------


async def test_click_without_view_id_answers_and_records_only_a_click() -> None:
    async with sandbox_client() as osp:
        reply = await osp.click(phone="0490260716")
        clicks = await osp.sandbox.get("/sandbox/clicks")
        views = await osp.sandbox.get("/sandbox/views")
    assert reply.body["status"] == "OK"
    assert reply.body["viewId"] is None
    assert DOTTED.match(reply.body["surtaxPhone"]["surtaxPhoneNumber"])
    assert views == []
    assert [(c["view_id"], c["visit_id"]) for c in clicks] == [(None, reply.body["visitId"])]


async def test_click_gets_the_number_the_visit_already_holds_for_the_phone() -> None:
    async with sandbox_client() as osp:
        page = await osp.view()
        click = await osp.click(view_id=str(page.body["viewId"]), phone="0490260716")
        again = await osp.click(view_id=str(page.body["viewId"]), phone="0490260716")
    shown = page.body["surtaxPhones"]["0490260716"]
    assert click.body["surtaxPhone"] == shown
    assert again.body["surtaxPhone"] == shown


async def test_client_data_is_echoed() -> None:
    data = {"client_data[0490260716]": "dossier 42", "client_data[0450982756]": "agence"}
    async with sandbox_client() as osp:
        page = await osp.view(**data)
        click = await osp.click(phone="0490260716", **{"client_data[0490260716]": "x"})
        (assignment, *_) = await osp.sandbox.get("/sandbox/assignments")
    assert page.body["clientData"] == {"0490260716": "dossier 42", "0450982756": "agence"}
    assert click.body["clientData"] == {"0490260716": "x"}
    assert assignment["client_data"] == "dossier 42"


async def test_surtax_phones_are_keyed_by_the_phone_as_sent_without_type() -> None:
    async with sandbox_client() as osp:
        reply = await osp.view(phones="04 90 26 07 16,0450982756:6")
    assert set(reply.body["surtaxPhones"]) == {"04 90 26 07 16", "0450982756"}


async def test_two_spellings_of_one_phone_get_one_number() -> None:
    async with sandbox_client() as osp:
        reply = await osp.view(phones="0490260716,04 90 26 07 16")
    shown = reply.body["surtaxPhones"]
    assert shown["0490260716"] == shown["04 90 26 07 16"]
