"""Visitor classification tables: crawlers, phones, speculative loads."""

from __future__ import annotations

import time

import pytest
from multidict import CIMultiDict

from proxy import visitors

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
ANDROID_REDUCED_PHONE = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAMSUNG = (
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
)
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0"
KAIOS = "Mozilla/5.0 (Mobile; Nokia 8110 4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5"
KINDLE = (
    "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/120.2.1 like Chrome/120.0.0.0 Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Safari/605.1.15"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
AHREFS = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"

BOTS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param(GOOGLEBOT, id="googlebot"),
    pytest.param(GOOGLEBOT_SMARTPHONE, id="googlebot-smartphone"),
    pytest.param(BINGBOT, id="bingbot"),
    pytest.param(AHREFS, id="ahrefs"),
    pytest.param(FACEBOOK, id="facebook-preview"),
    pytest.param(GPTBOT, id="gptbot"),
    pytest.param("curl/8.5.0", id="curl"),
    pytest.param("python-requests/2.31.0", id="python-requests"),
]
PEOPLE = [
    pytest.param(IPHONE, id="iphone"),
    pytest.param(PIXEL, id="android-chrome"),
    pytest.param(SAMSUNG, id="samsung-internet"),
    pytest.param(WINDOWS_CHROME, id="windows-chrome"),
    pytest.param(MAC_SAFARI, id="mac-safari"),
    pytest.param(LINUX_FIREFOX, id="linux-firefox"),
    pytest.param(IPAD, id="ipad"),
]


@pytest.mark.parametrize("user_agent", BOTS)
def test_bots(user_agent: str) -> None:
    assert visitors.is_bot(user_agent)


@pytest.mark.parametrize("user_agent", PEOPLE)
def test_people(user_agent: str) -> None:
    assert not visitors.is_bot(user_agent)


@pytest.mark.parametrize(
    ("user_agent", "mobile"),
    [
        pytest.param(IPHONE, True, id="iphone"),
        pytest.param(PIXEL, True, id="android-phone"),
        pytest.param(ANDROID_REDUCED_PHONE, True, id="android-reduced-phone"),
        pytest.param(SAMSUNG, True, id="samsung-internet"),
        pytest.param(FIREFOX_ANDROID, True, id="firefox-android"),
        pytest.param(KAIOS, True, id="kaios-feature-phone"),
        pytest.param(IPAD, False, id="ipad"),
        pytest.param(ANDROID_TABLET, False, id="android-tablet"),
        pytest.param(KINDLE, False, id="kindle"),
        pytest.param(WINDOWS_CHROME, False, id="windows"),
        pytest.param(MAC_SAFARI, False, id="mac"),
        pytest.param(LINUX_FIREFOX, False, id="linux"),
        pytest.param("", False, id="empty"),
        pytest.param("x" * 100_000, False, id="huge"),
    ],
)
def test_mobile(user_agent: str, mobile: bool) -> None:
    assert visitors.is_mobile(user_agent) is mobile


@pytest.mark.parametrize(
    ("headers", "prefetch"),
    [
        pytest.param({"Sec-Purpose": "prefetch"}, True, id="sec-purpose-prefetch"),
        pytest.param({"Sec-Purpose": "prefetch;prerender"}, True, id="sec-purpose-prerender"),
        pytest.param({"Sec-Purpose": "prefetch; anonymous-client-ip"}, True, id="private-prefetch"),
        pytest.param({"Purpose": "prefetch"}, True, id="purpose"),
        pytest.param({"purpose": "Prefetch"}, True, id="lowercase-name-mixed-value"),
        pytest.param({"X-Moz": "prefetch"}, True, id="x-moz"),
        pytest.param({"X-Purpose": "preview"}, True, id="x-purpose-preview"),
        pytest.param({}, False, id="none"),
        pytest.param({"Sec-Purpose": ""}, False, id="empty"),
        pytest.param({"Sec-Fetch-Dest": "document"}, False, id="navigation"),
        pytest.param({"Purpose": "prefetched-not"}, False, id="not-a-token"),
        pytest.param({"X-Purpose": "prefetch"}, False, id="x-purpose-other"),
    ],
)
def test_prefetch(headers: dict[str, str], prefetch: bool) -> None:
    assert visitors.is_prefetch(headers) is prefetch


def test_prefetch_with_case_insensitive_headers() -> None:
    assert visitors.is_prefetch(CIMultiDict({"sec-purpose": "prefetch"}))


def test_cache_hits_take_microseconds() -> None:
    visitors.warm()
    visitors.is_bot(IPHONE)
    visitors.is_mobile(IPHONE)
    rounds = 10_000
    started = time.perf_counter()
    for _ in range(rounds):
        visitors.is_bot(IPHONE)
        visitors.is_mobile(IPHONE)
    per_pair = (time.perf_counter() - started) / rounds
    # Generous bound for a shared 2-core box; a hit is about a microsecond.
    assert per_pair < 50e-6
