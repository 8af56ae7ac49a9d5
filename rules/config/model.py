"""The configuration model: frozen objects that request code reads, and ConfigError.

`load_config` (in `loader`) builds them after checking every key; a `Config` is
valid by construction, so nothing here validates again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from rules.config.paths import compile_paths
from rules.phones import Phone
from rules.scan import Matcher

Display = Literal["direct", "click"]
ProviderKind = Literal["optico", "freespee"]
SignIn = Literal["header", "query"]


class ConfigError(ValueError):
    """A configuration error naming the file, the key path and the fix.

    str(error) ==
        'config.toml: rules[1].phones[2]: "04 90" is not a valid phone number for region FR'
    """

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


@dataclass(frozen=True)
class ServerConfig:
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    upstream: str = "http://127.0.0.1:8000"
    preserve_host: bool = True
    """Forward the client's Host header (True) or the upstream's host (False)."""
    public_scheme: str | None = None
    """Force the public scheme (https behind a TLS terminator); None: derive it."""
    trusted_proxies: tuple[str, ...] = ()
    """CIDRs whose X-Forwarded-For is believed."""
    prefix: str = "/__dni"
    rewrite_max_bytes: int = 4 * 1024 * 1024
    scan_cache_bytes: int = 8 * 1024 * 1024
    """Pages whose scan plans are kept, to skip scanning a page sent again unchanged; 0: off."""
    request_body_max_bytes: int = 64 * 1024 * 1024
    header_timeout: float = 10.0
    upstream_connect_timeout: float = 5.0
    upstream_timeout: float = 60.0
    max_connections: int = 1024
    shutdown_grace: float = 10.0
    token_secret: str | None = field(default=None, repr=False)
    """HMAC key for click tokens; None: the proxy draws a random one at start."""
    token_ttl: int = 1800
    click_rate_per_ip: int = 30
    """Reveal clicks allowed per client IP per minute."""
    click_rate_per_visit: int = 10
    """Reveal clicks allowed per visit per minute."""
    log_level: str = "info"
    token_secret_origin: str | None = None
    """Where the token secret came from ("env NAME" or "file PATH"), never the secret."""


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: ProviderKind
    url: str
    api_key: str = field(repr=False)
    """Optico API key, or Freespee shared secret."""
    timeout: float = 1.5
    max_concurrency: int = 64
    breaker_failures: int = 5
    breaker_cooldown: float = 15.0
    # Freespee only
    adv_id: str | None = None
    sign_in: SignIn = "header"
    anonymize_ip: bool = False
    api_key_origin: str = ""
    """Where the key came from ("env NAME" or "file PATH"), never the key."""


@dataclass(frozen=True)
class PhoneRule:
    phone: Phone
    written: str
    """The phone as written in the config (sent to Optico in its national digits)."""
    type: int | None = None
    client_data: str | None = None


@dataclass(frozen=True)
class Parameter:
    """A Freespee custom dimension: a static value or one taken from the request."""

    name: str
    value: str | None = None
    query: str | None = None
    cookie: str | None = None
    header: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    paths: tuple[str, ...]
    provider: str
    display: Display
    phones: tuple[PhoneRule, ...]
    matcher: Matcher = field(repr=False, compare=False)
    type: int | None = None
    expiration: int = -1
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _by_e164: Mapping[str, PhoneRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", compile_paths(self.paths))
        by_e164 = {p.phone.e164: p for p in reversed(self.phones)}  # the first one wins
        object.__setattr__(self, "_by_e164", by_e164)

    def matches(self, path: str) -> bool:
        return self._pattern.fullmatch(path.partition("?")[0]) is not None

    def phone_rule(self, e164: str) -> PhoneRule | None:
        return self._by_e164.get(e164)


@dataclass(frozen=True)
class RewriteConfig:
    region: str = "FR"
    code_template: str = " (code {code})"
    click_label: str = "Afficher le numéro"


@dataclass(frozen=True)
class Config:
    source: str
    server: ServerConfig
    providers: Mapping[str, ProviderConfig]
    rewrite: RewriteConfig
    rules: tuple[Rule, ...]
    sandbox: Mapping[str, object] = field(default_factory=dict)
    """The raw [sandbox] table, handed to the sandbox as is."""

    def rule_for(self, path: str) -> Rule | None:
        """The first rule whose paths match the request path, or None."""
        return next((rule for rule in self.rules if rule.matches(path)), None)
