"""Shared test settings: one Hypothesis profile so property tests stay fast on a 2-core box."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Deadlines flake on a shared CI box; example counts keep the whole suite well under a minute.
settings.register_profile(
    "dni",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("dni")
