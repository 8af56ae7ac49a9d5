"""Reveal tokens: what verifies, and the ways a token is refused."""

from __future__ import annotations

import base64
import json

import pytest

from proxy.click import Claims, ClickTokens
from proxy.providers.base import ViewResult

SECRET = b"k" * 32
VIEW = ViewResult(view_id="101", visit_id="42")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> ClickTokens:
    return ClickTokens(SECRET, ttl=1800, clock=clock)


def test_round_trip(tokens: ClickTokens, clock: Clock) -> None:
    token = tokens.sign(VIEW, "+33490260716", "contact", "04 90 26 07 16")
    assert tokens.verify(token) == Claims(
        view_id="101",
        visit_id="42",
        e164="+33490260716",
        rule_name="contact",
        sample="04 90 26 07 16",
        expires=int(clock.now) + 1800,
    )


def test_compact_and_url_safe(tokens: ClickTokens) -> None:
    token = tokens.sign(VIEW, "+33490260716", "contact", "04 90 26 07 16")
    assert len(token) < 160
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_the_original_digits_are_not_written_out(tokens: ClickTokens) -> None:
    token = tokens.sign(VIEW, "+33490260716", "contact", "04 90 26 07 16")
    assert "0490260716" not in token and "33490260716" not in token


def test_optional_claims_may_be_absent(tokens: ClickTokens) -> None:
    token = tokens.sign(ViewResult(), "+33490260716", None, None)
    claims = tokens.verify(token)
    assert claims is not None
    assert (claims.view_id, claims.visit_id, claims.rule_name, claims.sample) == (None,) * 4


def test_expired(tokens: ClickTokens, clock: Clock) -> None:
    token = tokens.sign(VIEW, "+33490260716", "contact", None)
    clock.now += 1799
    assert tokens.verify(token) is not None
    clock.now += 1
    assert tokens.verify(token) is None


def test_another_secret(tokens: ClickTokens, clock: Clock) -> None:
    token = ClickTokens(b"x" * 32, ttl=1800, clock=clock).sign(VIEW, "+33490260716", None, None)
    assert tokens.verify(token) is None


def _reencoded(token: str, change: dict[int, object]) -> str:
    payload, _, mac = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for index, value in change.items():
        claims[index] = value
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({3: "+33899123456"}, id="other-phone"),
        pytest.param({6: 4_000_000_000}, id="later-expiry"),
        pytest.param({1: "102"}, id="other-view"),
    ],
)
def test_altered_payload(tokens: ClickTokens, change: dict[int, object]) -> None:
    token = tokens.sign(VIEW, "+33490260716", "contact", None)
    assert tokens.verify(_reencoded(token, change)) is None


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="no-mac"),
        pytest.param(".abc", id="no-payload"),
        pytest.param("abc.def", id="garbage"),
        pytest.param("!!!.???", id="not-base64"),
        pytest.param("abc.d\u00e9f", id="non-ascii-mac"),
        pytest.param("\u00e9bc.def", id="non-ascii-payload"),
        pytest.param("a" * 5000 + ".b", id="huge"),
    ],
)
def test_forged(tokens: ClickTokens, forged: str) -> None:
    assert tokens.verify(forged) is None


def test_flipped_mac_bit(tokens: ClickTokens) -> None:
    token = tokens.sign(VIEW, "+33490260716", None, None)
    last = "A" if token[-1] != "A" else "B"
    assert tokens.verify(token[:-1] + last) is None


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param([2, "1", "2", "+33490260716", None, None, 4_000_000_000], id="future-version"),
        pytest.param([1, 1, "2", "+33490260716", None, None, 4_000_000_000], id="int-view"),
        pytest.param([1, "1", "2", None, None, None, 4_000_000_000], id="no-phone"),
        pytest.param([1, "1", "2", "+33490260716", None, None, "4000000000"], id="text-expiry"),
        pytest.param({"v": 1}, id="object"),
    ],
)
def test_well_signed_but_malformed(tokens: ClickTokens, claims: object) -> None:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    token = f"{payload}.{base64.urlsafe_b64encode(tokens._mac(payload)).rstrip(b'=').decode()}"
    assert tokens.verify(token) is None


def test_repr_hides_the_secret(tokens: ClickTokens) -> None:
    assert "kkkk" not in repr(tokens)
