"""Where a visit comes from: source, keyword and referer domain, from the page URL and referer.

The source labels are the Data API's ("traffic direct", "adwords", "Google",
"Yahoo", "Bing", ...); "referral" and "internal" are the sandbox's for a link
from another site and from the same site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

DIRECT = "traffic direct"
ADWORDS = "adwords"
REFERRAL = "referral"
INTERNAL = "internal"

# (source label, host label that identifies it, query parameters holding the keyword)
SEARCH_ENGINES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Google", "google", ("q",)),
    ("Bing", "bing", ("q",)),
    ("Yahoo", "yahoo", ("p", "q")),
    ("DuckDuckGo", "duckduckgo", ("q",)),
    ("Qwant", "qwant", ("q",)),
    ("Ecosia", "ecosia", ("q",)),
    ("Yandex", "yandex", ("text",)),
    ("Baidu", "baidu", ("wd", "word")),
    ("Ask", "ask", ("q",)),
    ("AOL", "aol", ("q", "query")),
    ("Startpage", "startpage", ("query", "q")),
    ("Lilo", "lilo", ("q",)),
    ("Seznam", "seznam", ("q",)),
    ("Naver", "naver", ("query",)),
)

# Query parameters of the landing URL that mark a paid Google click.
ADS_CLICK_IDS = ("gclid", "gbraid", "wbraid")
# Where a paid click's keyword is, when the referer does not carry it.
ADS_KEYWORD_PARAMS = ("utm_term", "keyword")


@dataclass(frozen=True)
class Origin:
    source: str
    keyword: str | None
    referer: str | None
    """The referer's host (the Data API reports the domain, not the URL)."""


def origin(url: str, referer_url: str) -> Origin:
    referer = urlsplit(referer_url.strip()) if referer_url.strip() else None
    host = (referer.hostname or "") if referer else ""
    landing = _query(urlsplit(url).query) if "=" in url else {}
    engine = _engine(host)
    if any(landing.get(p) for p in ADS_CLICK_IDS):
        keyword = _first(_query(referer.query), engine[2]) if engine and referer else None
        return Origin(ADWORDS, keyword or _first(landing, ADS_KEYWORD_PARAMS), host or None)
    if referer is None or not host:
        return Origin(DIRECT, None, None)
    if engine:
        return Origin(engine[0], _first(_query(referer.query), engine[2]), host)
    if host == urlsplit(url).hostname:
        return Origin(INTERNAL, None, host)
    return Origin(REFERRAL, None, host)


def _engine(host: str) -> tuple[str, str, tuple[str, ...]] | None:
    labels = host.split(".")[:-1]
    return next((e for e in SEARCH_ENGINES if e[1] in labels), None)


def _query(query: str) -> dict[str, list[str]]:
    return parse_qs(query, keep_blank_values=False)


def _first(query: dict[str, list[str]], names: tuple[str, ...]) -> str | None:
    for name in names:
        values = query.get(name)
        if values and values[0].strip():
            return values[0].strip()
    return None
