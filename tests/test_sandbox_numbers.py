"""The sandbox's pure parts: number pools and written forms, the allocator, visit sources."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.allocator import Allocator
from sandbox.numbers import TYPE_PREFIXES, Permutation, Pool, format_dotted, normalize
from sandbox.sources import ADWORDS, DIRECT, INTERNAL, REFERRAL, Origin, origin


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        pytest.param("08.99.12.34.56", "0899123456", id="dotted"),
        pytest.param("0899123456", "0899123456", id="digits"),
        pytest.param("08 99 12 34 56", "0899123456", id="spaced"),
        pytest.param("08-99-12-34-56", "0899123456", id="dashed"),
        pytest.param("+33 8 99 12 34 56", "0899123456", id="international"),
        pytest.param("+33 (0)8 99 12 34 56", "0899123456", id="international-trunk-zero"),
        pytest.param("0033899123456", "0899123456", id="double-zero"),
        pytest.param("+49 30 1598 1158", "00493015981158", id="foreign"),
        pytest.param("08.99.12.34.5x", None, id="letter"),
        pytest.param("", None, id="empty"),
        pytest.param("٠٨٩٩", None, id="non-ascii-digits"),
    ],
)
def test_normalize(written: str, digits: str | None) -> None:
    assert normalize(written) == digits


def test_dotted_style() -> None:
    assert format_dotted("0899123456") == "08.99.12.34.56"


def test_pools_are_seeded_and_of_their_prefix() -> None:
    pool = Pool.build("d", 5, 100, shared=False, offset=0, seed=1)
    again = Pool.build("d", 5, 100, shared=False, offset=0, seed=1)
    other = Pool.build("d", 5, 100, shared=False, offset=0, seed=2)
    numbers = [pool.number(i) for i in range(100)]
    assert numbers == [again.number(i) for i in range(100)]
    assert numbers != [other.number(i) for i in range(100)]
    assert len(set(numbers)) == 100
    assert all(n.startswith("0899") and len(n) == 10 for n in numbers)


@pytest.mark.parametrize("type_id", sorted(TYPE_PREFIXES))
def test_every_type_makes_numbers_of_its_prefix(type_id: int) -> None:
    pool = Pool.build("d", type_id, 3, shared=False, offset=0, seed=0)
    assert all(pool.number(i).startswith(TYPE_PREFIXES[type_id]) for i in range(3))
    assert all(pool.owns(pool.number(i)) for i in range(3))


def test_domains_sharing_a_type_own_disjoint_numbers() -> None:
    first = Pool.build("a", 3, 50, shared=False, offset=0, seed=0)
    second = Pool.build("b", 3, 50, shared=False, offset=50, seed=0)
    assert not {first.number(i) for i in range(50)} & {second.number(i) for i in range(50)}
    assert not any(second.owns(first.number(i)) for i in range(50))
    assert not first.owns("0100000000")


def test_shared_pool_slots_spread_over_numbers_then_codes() -> None:
    pool = Pool.build("d", 5, 2, shared=True, offset=0, seed=0)
    assert pool.slots == 2 * 9000
    assert pool.number(0) != pool.number(1)
    assert pool.number(0) == pool.number(2)
    codes = {pool.code(slot) for slot in range(0, pool.slots, 2)}
    assert len(codes) == 9000
    assert all(code is not None and len(code) == 4 for code in codes)
    assert Pool.build("d", 3, 2, shared=False, offset=0, seed=0).code(0) is None


@given(st.integers(1, 10**6), st.integers(0, 10**6))
def test_permutation_inverts(size: int, index: int) -> None:
    permutation = Permutation.seeded(size, "s")
    assert permutation.inverse(permutation(index % size)) == index % size


def test_allocator_gives_fresh_slots_then_expired_ones() -> None:
    allocator = Allocator(2)
    first, second = allocator.take(0), allocator.take(0)
    allocator.hold(first, 10)  # type: ignore[arg-type]
    allocator.hold(second, 20)  # type: ignore[arg-type]
    assert (first, second) == (0, 1)
    assert allocator.take(5) is None
    allocator.hold(first, 30)  # type: ignore[arg-type]
    assert allocator.take(15) is None
    assert allocator.take(25) == 1
    allocator.hold(1, 25)
    assert [allocator.take(31), allocator.take(31)] == [1, 0]


def test_allocator_restores_held_slots() -> None:
    allocator = Allocator(4)
    allocator.restore(3, [(1, 100.0)])
    taken = [allocator.take(0) for _ in range(4)]
    assert taken == [3, 0, 2, None]


SOURCES = [
    pytest.param("http://s/", "", Origin(DIRECT, None, None), id="no-referer-direct"),
    pytest.param(
        "http://s/",
        "https://www.google.fr/search?q=plombier+avignon",
        Origin("Google", "plombier avignon", "www.google.fr"),
        id="google-query",
    ),
    pytest.param(
        "http://s/",
        "https://www.google.com/",
        Origin("Google", None, "www.google.com"),
        id="google-no-query",
    ),
    pytest.param(
        "http://s/",
        "https://www.bing.com/search?q=serrurier",
        Origin("Bing", "serrurier", "www.bing.com"),
        id="bing",
    ),
    pytest.param(
        "http://s/",
        "https://fr.search.yahoo.com/search?p=vitrier",
        Origin("Yahoo", "vitrier", "fr.search.yahoo.com"),
        id="yahoo-p",
    ),
    pytest.param(
        "http://s/",
        "https://duckduckgo.com/?q=chauffagiste",
        Origin("DuckDuckGo", "chauffagiste", "duckduckgo.com"),
        id="duckduckgo",
    ),
    pytest.param(
        "http://s/",
        "https://www.qwant.com/?q=couvreur",
        Origin("Qwant", "couvreur", "www.qwant.com"),
        id="qwant",
    ),
    pytest.param(
        "http://s/",
        "https://www.ecosia.org/search?q=peintre",
        Origin("Ecosia", "peintre", "www.ecosia.org"),
        id="ecosia",
    ),
    pytest.param(
        "http://s/",
        "https://yandex.ru/search/?text=santehnik",
        Origin("Yandex", "santehnik", "yandex.ru"),
        id="yandex-text",
    ),
    pytest.param(
        "http://s/",
        "https://www.baidu.com/s?wd=shuinuan",
        Origin("Baidu", "shuinuan", "www.baidu.com"),
        id="baidu-wd",
    ),
    pytest.param(
        "http://s/p?gclid=abc",
        "https://www.google.fr/",
        Origin(ADWORDS, None, "www.google.fr"),
        id="gclid-adwords",
    ),
    pytest.param(
        "http://s/p?gclid=abc&utm_term=plombier",
        "",
        Origin(ADWORDS, "plombier", None),
        id="gclid-keyword-from-utm-term",
    ),
    pytest.param(
        "http://s/p?gclid=abc",
        "https://www.google.fr/search?q=urgence",
        Origin(ADWORDS, "urgence", "www.google.fr"),
        id="gclid-keyword-from-referer",
    ),
    pytest.param(
        "http://s/",
        "https://blog.example.org/post",
        Origin(REFERRAL, None, "blog.example.org"),
        id="referral-host",
    ),
    pytest.param("http://s/b", "http://s/a", Origin(INTERNAL, None, "s"), id="same-site-internal"),
    pytest.param(
        "http://s/",
        "https://www.googleapis.example/",
        Origin(REFERRAL, None, "www.googleapis.example"),
        id="lookalike-host-is-referral",
    ),
]


@pytest.mark.parametrize(("url", "referer", "expected"), SOURCES)
def test_sources(url: str, referer: str, expected: Origin) -> None:
    assert origin(url, referer) == expected
