"""Scan plans kept for pages that come back byte for byte the same.

Where a page's phones are (its `rules.Page`) depends only on the page's bytes, its
charset and the rule; what replaces them depends on each visitor's provider answer.
A popular page (a home page, an advertised landing page) usually reaches every
visitor identical, so the last plan made for each page is kept, and a page equal to
the one it was made from, compared byte for byte, is not scanned again. A page that
changes on every request (a CSRF token, a timestamp) misses, at the cost of that one
comparison, and its newest plan replaces the kept one.

Entries are keyed by rule, charset, path (without the query, so an ad click's
`?gclid=` lands on the same entry) and length, and hold at most `max_bytes` of pages,
the least recently used going first. A plan is immutable and shared by every view
that uses it.
"""

from __future__ import annotations

from cachetools import LRUCache

from proxy import metrics
from rules import Page

PlanKey = tuple[str, str | None, str, int]

# What a plan holds besides its page's bytes, per phone occurrence (its spans and text).
OCCURRENCE_BYTES = 512


def _footprint(page: Page) -> int:
    """The page's bytes, its UTF-8 view when it has one (UTF-16/32 pages), its occurrences."""
    source = page.source
    view = len(source) if source is not page.body else 0
    return len(page.body) + view + OCCURRENCE_BYTES * len(page.occurrences)


class ScanPlans:
    """The plans of recently scanned pages; `ScanPlans(0)` keeps none."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._plans: LRUCache[PlanKey, Page] = LRUCache(max_bytes, getsizeof=_footprint)
        self._hits = metrics.SCAN_PLANS.labels("hit")
        self._misses = metrics.SCAN_PLANS.labels("miss")

    @staticmethod
    def key(rule: str, charset: str | None, path: str, html: bytes) -> PlanKey:
        return (rule, charset, path, len(html))

    def get(self, key: PlanKey, html: bytes) -> Page | None:
        """The plan kept for exactly these bytes, or None."""
        if not self._max_bytes:
            return None
        page = self._plans.get(key)
        if page is not None and page.body == html:
            self._hits.inc()
            return page
        self._misses.inc()
        return None

    def put(self, key: PlanKey, page: Page) -> None:
        if 0 < _footprint(page) <= self._max_bytes:
            self._plans[key] = page

    @property
    def size(self) -> int:
        """Bytes the kept plans account for."""
        return int(self._plans.currsize)

    def __len__(self) -> int:
        return len(self._plans)
