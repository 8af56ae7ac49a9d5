"""A local server that speaks the providers' documented APIs, for demos, tests and integrators.

`dni-edge sandbox` runs it; `sandbox.testing.running_sandbox()` runs it inside a
test's event loop. See sandbox/README.md for what it emulates and what it does not.
"""

from sandbox.app import build_app
from sandbox.clock import Clock
from sandbox.freespee import FREESPEE_PATH
from sandbox.settings import (
    DEMO_ADV_ID,
    DEMO_API_KEY,
    DEMO_FREESPEE_SECRET,
    AdvertiserSettings,
    DomainSettings,
    PoolSettings,
    SandboxConfigError,
    SandboxSettings,
    demo_settings,
    load_settings,
)

__all__ = [
    "DEMO_ADV_ID",
    "DEMO_API_KEY",
    "DEMO_FREESPEE_SECRET",
    "FREESPEE_PATH",
    "AdvertiserSettings",
    "Clock",
    "DomainSettings",
    "PoolSettings",
    "SandboxConfigError",
    "SandboxSettings",
    "build_app",
    "demo_settings",
    "load_settings",
]
