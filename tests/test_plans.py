"""Scan plans kept for pages sent again unchanged: reused only for the very same bytes.

The unit half runs real scans through `ScanPlans`; the other half runs the whole proxy
(real upstream, real sandbox, real client) and checks that a kept plan never outlives
the page it was made from: any changed byte is scanned afresh.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import html_page
from harness import make_config, running_proxy, running_site, sentinel_sandbox
from test_proxy_pages import assigned_nsn

from proxy import metrics
from proxy.plans import OCCURRENCE_BYTES, ScanPlans
from proxy.runtime import RUNTIME
from rules import Matcher, parse_phone, scan
from rules.config import ConfigError, load_config

MATCHER = Matcher([parse_phone("04 90 26 07 16"), parse_phone("01 85 08 37 37")])


def page_of(body: str) -> bytes:
    return html_page(body).encode()


def plans_counted(result: str) -> float:
    value = metrics.REGISTRY.get_sample_value("dni_scan_plans_total", {"result": result})
    return value or 0.0


def test_a_plan_is_given_back_for_the_same_bytes_only() -> None:
    plans = ScanPlans(1 << 20)
    html = page_of("<p>Tél. 04 90 26 07 16</p>")
    key = plans.key("site", "utf-8", "/page", html)
    assert plans.get(key, html) is None
    page = scan(html, MATCHER, charset="utf-8")
    plans.put(key, page)

    assert plans.get(key, bytes(html)) is page  # equal bytes, another object
    same_length = html.replace(b"04 90 26 07 16", b"01 85 08 37 37")
    assert len(same_length) == len(html)
    assert plans.get(plans.key("site", "utf-8", "/page", same_length), same_length) is None


@pytest.mark.parametrize(
    ("rule", "charset", "path"),
    [("other", "utf-8", "/page"), ("site", None, "/page"), ("site", "utf-8", "/other")],
    ids=["rule", "charset", "path"],
)
def test_a_plan_is_kept_per_rule_charset_and_path(
    rule: str, charset: str | None, path: str
) -> None:
    plans = ScanPlans(1 << 20)
    html = page_of("<p>04 90 26 07 16</p>")
    plans.put(plans.key("site", "utf-8", "/page", html), scan(html, MATCHER, charset="utf-8"))
    assert plans.get(plans.key(rule, charset, path, html), html) is None


def test_kept_plans_stay_within_their_bytes() -> None:
    budget = 64 * 1024
    plans = ScanPlans(budget)
    for i in range(40):
        html = page_of(f"<p>{i} 04 90 26 07 16</p>" + "x" * 4000)
        plans.put(plans.key("site", "utf-8", f"/p{i}", html), scan(html, MATCHER))
        assert plans.size <= budget
    assert 0 < len(plans) < 40
    newest = page_of("<p>39 04 90 26 07 16</p>" + "x" * 4000)
    assert plans.get(plans.key("site", "utf-8", "/p39", newest), newest) is not None
    oldest = page_of("<p>0 04 90 26 07 16</p>" + "x" * 4000)
    assert plans.get(plans.key("site", "utf-8", "/p0", oldest), oldest) is None


def test_a_page_larger_than_the_budget_is_not_kept() -> None:
    plans = ScanPlans(4096)
    html = page_of("<p>04 90 26 07 16</p>" + "x" * 8000)
    page = scan(html, MATCHER)
    plans.put(plans.key("site", None, "/big", html), page)
    assert len(plans) == 0
    small = page_of("<p>04 90 26 07 16</p>")
    plans.put(plans.key("site", None, "/small", small), scan(small, MATCHER))
    assert plans.size == len(small) + OCCURRENCE_BYTES


def test_a_wide_page_counts_its_utf8_view_too() -> None:
    plans = ScanPlans(1 << 20)
    html = html_page("<p>04 90 26 07 16</p>").replace("utf-8", "utf-16").encode("utf-16")
    page = scan(html, MATCHER, charset="utf-16")
    assert page.occurrences and page.source is not page.body
    plans.put(plans.key("site", "utf-16", "/wide", html), page)
    assert plans.size == len(html) + len(page.source) + OCCURRENCE_BYTES


def test_no_plan_is_kept_when_off() -> None:
    plans = ScanPlans(0)
    html = page_of("<p>04 90 26 07 16</p>")
    key = plans.key("site", None, "/page", html)
    plans.put(key, scan(html, MATCHER))
    assert plans.get(key, html) is None
    assert len(plans) == 0 and plans.size == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("16MiB", 16 * 1024 * 1024), ("512KiB", 512 * 1024), ("1000", 1000)],
)
def test_the_cache_size_is_read_from_the_config(value: str, expected: int) -> None:
    config = load_config(f'[server]\nscan_cache_bytes = "{value}"\n', source="t.toml")
    assert config.server.scan_cache_bytes == expected


def test_zero_as_a_number_turns_the_cache_off() -> None:
    config = load_config("[server]\nscan_cache_bytes = 0\n", source="t.toml")
    assert config.server.scan_cache_bytes == 0


@pytest.mark.parametrize("value", ['"lots"', "-1", "true"])
def test_a_bad_cache_size_names_the_key_and_the_fix(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(f"[server]\nscan_cache_bytes = {value}\n", source="t.toml")
    message = str(caught.value)
    assert message.startswith("t.toml: server.scan_cache_bytes: expected a size in bytes")
    assert "or 0 for off" in message


async def test_a_page_sent_again_unchanged_is_not_scanned_again() -> None:
    page = html_page("<p>Tél. 04 90 26 07 16</p><footer>01 85 08 37 37</footer>")
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        nsn = await assigned_nsn(proxy)
        site.page("/page/home", page)
        hits, misses = plans_counted("hit"), plans_counted("miss")
        bodies = [(await proxy.get(path))[2] for path in ("/page/home", "/page/home?gclid=x1")]
        assert plans_counted("miss") - misses == 1
        assert plans_counted("hit") - hits == 1
    for body in bodies:
        assert f"0{nsn[0]} {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:9]}".encode() in body
        assert b"04 90 26 07 16" not in body


async def test_a_changed_page_of_the_same_length_is_scanned_afresh() -> None:
    first = html_page("<p>Tél. 04 90 26 07 16</p><p>Fax 01 85 08 37 37</p>")
    moved = html_page("<p>Fax. 01 85 08 37 37</p><p>Tél 04 90 26 07 16</p>")
    assert len(first) == len(moved)
    async with (
        sentinel_sandbox() as sandbox,
        running_site() as site,
        running_proxy(site, sandbox=sandbox) as proxy,
    ):
        site.page("/page/a", first)
        _, _, before = await proxy.get("/page/a")
        site.page("/page/a", moved)
        _, _, after = await proxy.get("/page/a")
        site.page("/page/a", first)
        _, _, again = await proxy.get("/page/a")
    assert after.startswith(moved.split("<p>Fax.")[0].encode() + b"<p>Fax. ")
    assert b"04 90 26 07 16" not in after and b"01 85 08 37 37" not in after
    assert "<p>Tél ".encode() in after and b"<p>Fax " not in after
    assert again == before


async def test_with_the_cache_off_every_view_is_scanned() -> None:
    async with running_site() as site, sentinel_sandbox() as sandbox:
        config = make_config(site, provider=sandbox.url, api_key=sandbox.api_key)
        off = replace(config, server=replace(config.server, scan_cache_bytes=0))
        async with running_proxy(site, sandbox=sandbox, config=off) as proxy:
            site.page("/page/home", html_page("<p>04 90 26 07 16</p>"))
            hits = plans_counted("hit")
            for _ in range(3):
                _, _, body = await proxy.get("/page/home")
                assert b"04 90 26 07 16" not in body
            assert plans_counted("hit") == hits
            assert len(proxy.app[RUNTIME].plans) == 0
