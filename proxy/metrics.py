"""Prometheus metrics of the proxy, in one registry that `/__dni/metrics` exposes.

Names follow Prometheus conventions: `dni_` prefix, base units, `_total` on counters.
Every label value comes from a small fixed set (outcomes, reasons, endpoints), never
from a request, so cardinality stays bounded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "dni_requests_total",
    "Requests served, by outcome (rewritten, passthrough, bot, fallback, upstream_error, ...).",
    ["outcome"],
    registry=REGISTRY,
)
PAGES_REWRITTEN = Counter(
    "dni_pages_rewritten_total",
    "HTML pages rewritten, by display mode.",
    ["display"],
    registry=REGISTRY,
)
NUMBERS_SWAPPED = Counter(
    "dni_numbers_swapped_total",
    "Phone occurrences written with a tracking number or reveal.",
    registry=REGISTRY,
)
PROVIDER_CALLS = Counter(
    "dni_provider_calls_total",
    "Provider API calls, by provider, endpoint and result status.",
    ["provider", "endpoint", "status"],
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "dni_provider_latency_seconds",
    "Provider API call latency.",
    ["provider", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0),
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "dni_fallbacks_total",
    "Pages or clicks served with original numbers, by reason.",
    ["reason"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "dni_breaker_state",
    "Provider circuit breaker state: 0 closed, 1 half-open, 2 open.",
    ["provider"],
    registry=REGISTRY,
)
BYTES_IN = Counter(
    "dni_upstream_bytes_total", "Body bytes read from the upstream.", registry=REGISTRY
)
BYTES_OUT = Counter("dni_client_bytes_total", "Body bytes sent to clients.", registry=REGISTRY)
CONNECTIONS_CLOSED = Counter(
    "dni_connections_closed_total",
    "Client connections closed by a server limit, by reason (header_timeout, connection_limit).",
    ["reason"],
    registry=REGISTRY,
)
UPSTREAM_ERRORS = Counter(
    "dni_upstream_errors_total",
    "Requests the upstream could not answer, by kind (unavailable, timeout).",
    ["kind"],
    registry=REGISTRY,
)
SCAN_PLANS = Counter(
    "dni_scan_plans_total",
    "Pages looked up among the kept scan plans, by result (hit: not scanned again, miss).",
    ["result"],
    registry=REGISTRY,
)
REWRITE_SECONDS = Histogram(
    "dni_rewrite_seconds",
    "CPU-bound time spent on a page: decode, scan, render and encode (provider call excluded).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
    registry=REGISTRY,
)


@lru_cache(maxsize=1024)
def child(metric: MetricWrapperBase, *values: str) -> Any:
    """`metric.labels(*values)`, looked up once per label set: `labels()` checks its
    arguments and takes a lock on every call, and a request asks for several."""
    return metric.labels(*values)
