"""Who is asking: crawlers, mobiles and speculative loads, decided from request headers.

Bots and prefetches cost no provider call (they would burn pool numbers nobody dials);
`is_mobile` feeds Optico's mobile statistics. Both user-agent checks use maintained
lists (crawlerdetect, ua-parser) that cost 0.1 to 0.5 ms per unseen agent, so an LRU
(`functools.lru_cache`, whose hits cost less than cachetools') sits in front: a site sees
a few thousand distinct agents, and a hit costs well under a microsecond. `warm()` pays
the lists' one-off load (about 0.15 s) at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import ua_parser
from crawlerdetect import CrawlerDetect
from ua_parser import Domain

UA_CACHE_SIZE = 8192
MAX_UA = 1024
"""Agents are classified on their first 1 KiB: real ones are shorter, and the cache
key must stay small however long a crafted header is."""

MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Symbian OS"}
)
TABLET_DEVICES = frozenset({"iPad", "Kindle", "Kindle Fire", "Kindle Fire HD", "Generic Tablet"})
TABLET_BRANDS = frozenset({"Generic_Android_Tablet"})

PREFETCH_HEADERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Sec-Purpose", frozenset({"prefetch", "prerender"})),
    ("Purpose", frozenset({"prefetch"})),
    ("X-Moz", frozenset({"prefetch"})),
    ("X-Purpose", frozenset({"preview"})),
)
"""Headers browsers send on speculative loads, and the tokens that mark one."""
_TOKENS = re.compile(r"[^\s;,=]+")

_crawlers = CrawlerDetect()


def is_bot(user_agent: str) -> bool:
    """A crawler by the maintained list; an empty agent is treated as one."""
    return _is_bot(user_agent[:MAX_UA].strip())


def is_mobile(user_agent: str) -> bool:
    """A phone (tablets are not: they do not dial), by ua-parser's OS and device."""
    return _is_mobile(user_agent[:MAX_UA])


def is_prefetch(headers: Mapping[str, str]) -> bool:
    """A prefetch or prerender, which no person may ever see.

    `headers` should be case-insensitive (aiohttp's are); a plain dict is looked up by the
    canonical and the lower-case name.
    """
    for name, marks in PREFETCH_HEADERS:
        value = headers.get(name) or headers.get(name.lower())
        if value and not marks.isdisjoint(_TOKENS.findall(value.lower())):
            return True
    return False


def warm() -> None:
    """Load both lists now rather than on the first visitor's request."""
    _is_bot.cache_clear()
    _is_mobile.cache_clear()
    is_bot("Mozilla/5.0")
    is_mobile("Mozilla/5.0")


@lru_cache(maxsize=UA_CACHE_SIZE)
def _is_bot(user_agent: str) -> bool:
    return not user_agent or bool(_crawlers.isCrawler(user_agent))


@lru_cache(maxsize=UA_CACHE_SIZE)
def _is_mobile(user_agent: str) -> bool:
    parsed = ua_parser.parser(user_agent, Domain.OS | Domain.DEVICE)
    if parsed.os is None or parsed.os.family not in MOBILE_OS:
        return False
    device = parsed.device
    if device is not None and (device.family in TABLET_DEVICES or device.brand in TABLET_BRANDS):
        return False
    # Android tablets leave "Mobile" out of the agent (Google's own convention).
    return parsed.os.family != "Android" or "Mobile" in user_agent
