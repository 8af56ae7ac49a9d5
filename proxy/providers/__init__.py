"""Call-tracking providers behind one seam (`base.Provider`).

`build_providers` is the only place that knows which client serves which `kind`; the
pipeline looks providers up by the name a rule gives and never branches on the kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from proxy.providers.base import Provider
from proxy.providers.freespee import FreespeeProvider
from proxy.providers.freespee_params import check_static
from proxy.providers.http import ProviderHttp
from proxy.providers.optico import OpticoProvider
from rules.config import Config

__all__ = ["Provider", "ProviderHttp", "build_providers"]


def build_providers(
    config: Config,
    http: ProviderHttp,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Provider]:
    """One client per configured provider, keyed by provider name.

    Raises `ConfigError` for a Freespee rule whose static parameter is too long, so a
    misconfiguration stops the start instead of costing every page view.
    """
    rules = {rule.name: rule for rule in config.rules}
    freespee = [name for name, p in config.providers.items() if p.kind == "freespee"]
    check_static(config.source, config.rules, freespee)
    providers: dict[str, Provider] = {}
    for name, provider in config.providers.items():
        if provider.kind == "optico":
            providers[name] = OpticoProvider(
                provider, rules, http, region=config.rewrite.region, clock=clock
            )
        else:
            providers[name] = FreespeeProvider(provider, rules, http, clock=clock)
    return providers
