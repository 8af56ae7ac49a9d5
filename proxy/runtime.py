"""What a running proxy holds: the config, its seams and the state shared by every request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from proxy.background import Background
from proxy.forwarded import Network
from proxy.limits import ByteBudget
from proxy.plans import ScanPlans
from proxy.providers.base import Provider
from proxy.upstream import Upstream
from rules.config import Config, Rule

if TYPE_CHECKING:
    from proxy.click import ClickTokens

# Memory that pages being rewritten may hold at once (their footprint, see pipeline):
# room for 13 pages of 1 MB or 136 of 100 KB (128 visitors waiting 20 ms each on the
# provider), and a flat RSS however many arrive.
REWRITE_BUDGET = 40 * 1024 * 1024


@dataclass
class Runtime:
    config: Config
    upstream: Upstream
    trusted: tuple[Network, ...]
    providers: Mapping[str, Provider] = field(default_factory=dict)
    tokens: ClickTokens | None = None
    reveal_src: str = ""
    background: Background = field(default_factory=Background)
    budget: ByteBudget = field(default_factory=lambda: ByteBudget(REWRITE_BUDGET))
    plans: ScanPlans = field(default_factory=lambda: ScanPlans(0))
    """Scan plans of pages sent again unchanged (see `plans`)."""
    websockets: set[web.WebSocketResponse] = field(default_factory=set)
    """Open client websockets, closed with 1001 (going away) on shutdown."""
    draining: bool = False
    """Set on SIGTERM: readiness fails so load balancers stop sending traffic."""

    def provider_for(self, rule: Rule | None) -> Provider | None:
        """The rule's provider; for a page no rule covers, the first rule's (or the only one)."""
        if rule is not None:
            return self.providers.get(rule.provider)
        if self.config.rules:
            return self.providers.get(self.config.rules[0].provider)
        if len(self.providers) == 1:
            return next(iter(self.providers.values()))
        return None


RUNTIME = web.AppKey("dni_runtime", Runtime)
