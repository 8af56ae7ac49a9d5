"""The circuit breaker as a pure state machine, driven by a hand-moved clock."""

from __future__ import annotations

import pytest

from proxy.providers.breaker import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def failed(breaker: Breaker, times: int) -> Breaker:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()
    return breaker


def test_opens_after_n_consecutive_failures(clock: Clock) -> None:
    breaker = failed(Breaker(3, 10.0, clock), 2)
    assert breaker.state == "closed"
    failed(breaker, 1)
    assert breaker.state == "open"
    assert not breaker.allow()


def test_a_success_resets_the_count(clock: Clock) -> None:
    breaker = failed(Breaker(3, 10.0, clock), 2)
    breaker.record_success()
    failed(breaker, 2)
    assert breaker.state == "closed"


def test_one_probe_after_the_cooldown(clock: Clock) -> None:
    breaker = failed(Breaker(1, 10.0, clock), 1)
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()
    assert breaker.state == "half_open"
    assert not breaker.allow(), "only one probe at a time"


@pytest.mark.parametrize(
    ("verdict", "state"),
    [
        pytest.param("record_success", "closed", id="probe-succeeds-closes"),
        pytest.param("record_failure", "open", id="probe-fails-reopens"),
    ],
)
def test_the_probe_decides(clock: Clock, verdict: str, state: str) -> None:
    breaker = failed(Breaker(1, 10.0, clock), 1)
    clock.now += 10
    assert breaker.allow()
    getattr(breaker, verdict)()
    assert breaker.state == state


def test_a_failed_probe_restarts_the_cooldown(clock: Clock) -> None:
    breaker = failed(Breaker(1, 10.0, clock), 1)
    clock.now += 10
    breaker.allow()
    breaker.record_failure()
    clock.now += 5
    assert not breaker.allow()
    clock.now += 5
    assert breaker.allow()


def test_an_abandoned_probe_lets_the_next_call_probe(clock: Clock) -> None:
    breaker = failed(Breaker(1, 10.0, clock), 1)
    clock.now += 10
    assert breaker.allow()
    breaker.record_abandoned()
    assert breaker.state == "open"
    assert breaker.allow()


def test_late_success_does_not_close_an_open_breaker(clock: Clock) -> None:
    breaker = failed(Breaker(1, 10.0, clock), 1)
    breaker.record_success()
    assert breaker.state == "open"


@pytest.mark.parametrize(("failures", "cooldown"), [(0, 1.0), (1, -1.0)])
def test_rejects_nonsense_settings(failures: int, cooldown: float) -> None:
    with pytest.raises(ValueError):
        Breaker(failures, cooldown)
