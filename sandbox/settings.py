"""The sandbox's settings: domains with their API keys and pools, Freespee advertisers, seed.

Settings come from a `[sandbox]` table (of the dni-edge config.toml or a file of
the sandbox's own) or are built in code; either way `validate()` runs before the
server starts, so request code can trust them. With no table at all the sandbox
runs the demo: one domain keyed `osp_test_demo_key` and one Freespee advertiser.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import phonenumbers

from sandbox.numbers import TYPE_PREFIXES, national_space

DEMO_API_KEY = "osp_test_demo_key"
DEMO_ADV_ID = "demo"
DEMO_FREESPEE_SECRET = "freespee-demo-secret"
DEMO_DOMAIN = "demo.example"

# A production Optico key is `osp_` and 32 hex digits (the document's example
# osp_3a8f1c5d7b2e4906a8c1f5d3b9e7042c); the sandbox refuses them so a proxy
# pointed at it with a real key fails loudly instead of leaking it.
PRODUCTION_KEY = re.compile(r"osp_[0-9a-fA-F]{32}")

# Thirty minutes: the life of the optico_visit_id cookie and of a visit without views.
VISIT_TIMEOUT = 30 * 60
# What expiration=-1 means when a domain does not say: as long as a visit lives.
DEFAULT_EXPIRATION = 30 * 60

# Demo pools: the default type 3 (09) is big enough for a 30 s load test of
# fresh visits; 5 (0899) shares numbers between visitors with a code.
DEMO_POOL_SIZES: Mapping[int, int] = {1: 1_000, 3: 200_000, 5: 100, 6: 10_000}
DEMO_SHARED_TYPES = frozenset({5})


class SandboxConfigError(ValueError):
    """A settings error naming the key and the fix; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class PoolSettings:
    type_id: int
    size: int
    """How many numbers the pool holds."""
    shared_code: bool = False
    """One number serves many visitors, told apart by a 4-digit code."""


@dataclass(frozen=True)
class DomainSettings:
    name: str
    api_key: str
    pools: tuple[PoolSettings, ...]
    default_type: int = 3
    default_expiration: int = DEFAULT_EXPIRATION

    def pool(self, type_id: int) -> PoolSettings | None:
        return next((pool for pool in self.pools if pool.type_id == type_id), None)


@dataclass(frozen=True)
class AdvertiserSettings:
    """A Freespee account: its shared secret and its pool of numbers in one country."""

    adv_id: str
    secret: str = field(repr=False)
    region: str = "DE"
    """Region the page's numbers are read in when they are not in E.164."""
    prefix: str = "+49301598"
    """E.164 start of every pool number; the pool varies the digits after it."""
    digits: int = 4
    size: int = 10_000
    session_ttl: int = VISIT_TIMEOUT


@dataclass(frozen=True)
class SandboxSettings:
    domains: tuple[DomainSettings, ...]
    advertisers: tuple[AdvertiserSettings, ...] = ()
    seed: int = 0
    visit_timeout: int = VISIT_TIMEOUT

    @property
    def demo_api_key(self) -> str:
        return self.domains[0].api_key if self.domains else DEMO_API_KEY

    def domain_for_key(self, api_key: str) -> DomainSettings | None:
        return next((d for d in self.domains if d.api_key == api_key), None)

    def advertiser(self, adv_id: str) -> AdvertiserSettings | None:
        return next((a for a in self.advertisers if a.adv_id == adv_id), None)


def demo_settings(
    pools: Mapping[int, int] | None = None,
    *,
    shared: Collection[int] = DEMO_SHARED_TYPES,
    default_type: int = 3,
    default_expiration: int = DEFAULT_EXPIRATION,
    seed: int = 0,
    freespee_pool_size: int = 10_000,
) -> SandboxSettings:
    """The demo domain and advertiser, with pools sized as asked.

    `demo_settings({3: 2})` gives a domain whose only pool is type 3 with two
    numbers, enough to exhaust it in a test; `shared` lists the types whose
    numbers are shared with a code.
    """
    sizes = DEMO_POOL_SIZES if pools is None else pools
    domain = DomainSettings(
        name=DEMO_DOMAIN,
        api_key=DEMO_API_KEY,
        pools=tuple(PoolSettings(t, n, t in shared) for t, n in sorted(sizes.items())),
        default_type=default_type,
        default_expiration=default_expiration,
    )
    advertiser = AdvertiserSettings(DEMO_ADV_ID, DEMO_FREESPEE_SECRET, size=freespee_pool_size)
    settings = SandboxSettings(domains=(domain,), advertisers=(advertiser,), seed=seed)
    validate(settings)
    return settings


# --- validation -------------------------------------------------------------


def validate(settings: SandboxSettings) -> None:
    """Raise SandboxConfigError for the first setting that cannot work."""
    if not settings.domains:
        raise SandboxConfigError("sandbox.domains: at least one domain is needed")
    _check_unique([d.api_key for d in settings.domains], "sandbox.domains[].api_key")
    _check_unique([d.name for d in settings.domains], "sandbox.domains[].name")
    _check_unique([a.adv_id for a in settings.advertisers], "sandbox.advertisers[].adv_id")
    for i, domain in enumerate(settings.domains):
        _validate_domain(domain, f"sandbox.domains[{i}]")
    for i, advertiser in enumerate(settings.advertisers):
        _validate_advertiser(advertiser, f"sandbox.advertisers[{i}]")
    if settings.visit_timeout <= 0:
        raise SandboxConfigError("sandbox.visit_timeout: must be a positive number of seconds")


def _check_unique(values: list[str], key: str) -> None:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise SandboxConfigError(f"{key}: {duplicates[0]!r} is used twice; each must be unique")


def _validate_domain(domain: DomainSettings, key: str) -> None:
    if PRODUCTION_KEY.fullmatch(domain.api_key):
        raise SandboxConfigError(
            f"{key}.api_key: looks like a production Optico key (osp_ + 32 hex digits); "
            f"the sandbox only takes test keys such as {DEMO_API_KEY!r}"
        )
    if not domain.api_key:
        raise SandboxConfigError(f"{key}.api_key: must not be empty")
    if not domain.pools:
        raise SandboxConfigError(f"{key}.pools: at least one pool is needed")
    _check_unique([str(p.type_id) for p in domain.pools], f"{key}.pools[].type")
    for j, pool in enumerate(domain.pools):
        _validate_pool(pool, f"{key}.pools[{j}]")
    if domain.pool(domain.default_type) is None:
        raise SandboxConfigError(
            f"{key}.default_type: no pool of type {domain.default_type}; add one or pick "
            f"one of {[p.type_id for p in domain.pools]}"
        )
    if domain.default_expiration <= 0:
        raise SandboxConfigError(f"{key}.default_expiration: must be a positive number of seconds")


def _validate_pool(pool: PoolSettings, key: str) -> None:
    if pool.type_id not in TYPE_PREFIXES:
        raise SandboxConfigError(
            f"{key}.type: {pool.type_id} is not in the tracking type prefix table "
            f"(known: {sorted(TYPE_PREFIXES)})"
        )
    room = national_space(pool.type_id)
    if not 0 < pool.size <= room:
        raise SandboxConfigError(f"{key}.size: must be between 1 and {room} for this prefix")


def _validate_advertiser(advertiser: AdvertiserSettings, key: str) -> None:
    if not advertiser.secret:
        raise SandboxConfigError(f"{key}.secret: must not be empty")
    if phonenumbers.country_code_for_region(advertiser.region.upper()) == 0:
        raise SandboxConfigError(f"{key}.region: {advertiser.region!r} is not a region code")
    if not re.fullmatch(r"\+[1-9]\d{3,12}", advertiser.prefix):
        raise SandboxConfigError(
            f"{key}.prefix: expected the start of an E.164 number, '+49301598'"
        )
    if not 1 <= advertiser.digits <= 8 or not 0 < advertiser.size <= 10**advertiser.digits:
        raise SandboxConfigError(f"{key}.size: must be between 1 and 10**digits")
    if advertiser.session_ttl <= 0:
        raise SandboxConfigError(f"{key}.session_ttl: must be a positive number of seconds")


# --- loading from a TOML table -----------------------------------------------

_TOP_KEYS = frozenset({"seed", "visit_timeout", "domains", "advertisers"})
_DOMAIN_KEYS = frozenset({"name", "api_key", "pools", "default_type", "default_expiration"})
_POOL_KEYS = frozenset({"type", "size", "shared_code"})
_ADVERTISER_KEYS = frozenset(
    {"adv_id", "secret", "region", "prefix", "digits", "size", "session_ttl"}
)


def load_settings(table: Mapping[str, Any]) -> SandboxSettings:
    """Build settings from a `[sandbox]` table; keys it leaves out keep the demo's values."""
    _check_keys(table, _TOP_KEYS, "sandbox")
    settings = demo_settings()
    if "domains" in table:
        domains = _items(table["domains"], "sandbox.domains")
        settings = replace(
            settings,
            domains=tuple(_domain(d, i) for i, d in enumerate(domains)),
        )
    if "advertisers" in table:
        items = _items(table["advertisers"], "sandbox.advertisers")
        advertisers = tuple(
            _advertiser(a, f"sandbox.advertisers[{i}]") for i, a in enumerate(items)
        )
        settings = replace(settings, advertisers=advertisers)
    settings = replace(
        settings,
        seed=_int(table, "seed", "sandbox", settings.seed),
        visit_timeout=_int(table, "visit_timeout", "sandbox", settings.visit_timeout),
    )
    validate(settings)
    return settings


def _domain(table: Mapping[str, Any], index: int) -> DomainSettings:
    key = f"sandbox.domains[{index}]"
    _check_keys(table, _DOMAIN_KEYS, key)
    pools = _items(table.get("pools", []), f"{key}.pools")
    return DomainSettings(
        name=_str(table, "name", key, f"domain{index}"),
        api_key=_str(table, "api_key", key, None),
        pools=tuple(_pool(p, f"{key}.pools[{j}]") for j, p in enumerate(pools)),
        default_type=_int(table, "default_type", key, 3),
        default_expiration=_int(table, "default_expiration", key, DEFAULT_EXPIRATION),
    )


def _pool(table: Mapping[str, Any], key: str) -> PoolSettings:
    _check_keys(table, _POOL_KEYS, key)
    shared = table.get("shared_code", False)
    if not isinstance(shared, bool):
        raise SandboxConfigError(f"{key}.shared_code: expected true or false")
    return PoolSettings(_int(table, "type", key, None), _int(table, "size", key, None), shared)


def _advertiser(table: Mapping[str, Any], key: str) -> AdvertiserSettings:
    _check_keys(table, _ADVERTISER_KEYS, key)
    defaults = AdvertiserSettings(adv_id="", secret="")
    return AdvertiserSettings(
        adv_id=_str(table, "adv_id", key, None),
        secret=_str(table, "secret", key, None),
        region=_str(table, "region", key, defaults.region),
        prefix=_str(table, "prefix", key, defaults.prefix),
        digits=_int(table, "digits", key, defaults.digits),
        size=_int(table, "size", key, defaults.size),
        session_ttl=_int(table, "session_ttl", key, defaults.session_ttl),
    )


def _check_keys(table: object, known: frozenset[str], key: str) -> None:
    if not isinstance(table, Mapping):
        raise SandboxConfigError(f"{key}: expected a table")
    unknown = sorted(set(table) - known)
    if unknown:
        raise SandboxConfigError(f"{key}.{unknown[0]}: unknown key; known: {sorted(known)}")


def _items(value: object, key: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise SandboxConfigError(f"{key}: expected an array of tables")
    return value


def _int(table: Mapping[str, Any], name: str, key: str, default: int | None) -> int:
    value = table.get(name, default)
    if value is None:
        raise SandboxConfigError(f"{key}.{name}: missing; it is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise SandboxConfigError(f"{key}.{name}: expected an integer")
    return value


def _str(table: Mapping[str, Any], name: str, key: str, default: str | None) -> str:
    value = table.get(name, default)
    if value is None:
        raise SandboxConfigError(f"{key}.{name}: missing; it is required")
    if not isinstance(value, str):
        raise SandboxConfigError(f"{key}.{name}: expected a string")
    return value
