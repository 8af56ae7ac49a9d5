"""Builders for the provider tests, and the tests of `build_providers` itself.

The builders make the config objects directly (not from TOML) so the provider tests
read as their table rows: a rule, its phones, a visitor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

import pytest

from proxy.providers import build_providers
from proxy.providers.base import PageView, Visitor
from proxy.providers.freespee import FreespeeProvider
from proxy.providers.http import ProviderHttp
from proxy.providers.optico import OpticoProvider
from rules import Matcher, Phone, parse_phone
from rules.config import (
    Config,
    ConfigError,
    Parameter,
    PhoneRule,
    ProviderConfig,
    RewriteConfig,
    Rule,
    ServerConfig,
)

SENTINEL_KEY = "SENTINEL-7f3a9c2e1b"
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def optico(url: str, api_key: str, **settings: object) -> ProviderConfig:
    return replace(ProviderConfig("optico", "optico", url, api_key), **settings)  # type: ignore[arg-type]


def freespee(url: str, secret: str, adv_id: str, **settings: object) -> ProviderConfig:
    base = ProviderConfig("freespee", "freespee", url, secret, adv_id=adv_id)
    return replace(base, **settings)  # type: ignore[arg-type]


def phone_rule(written: str, region: str = "FR", **settings: object) -> PhoneRule:
    return PhoneRule(parse_phone(written, region), written, **settings)  # type: ignore[arg-type]


def rule(
    name: str,
    provider: str,
    phones: Iterable[PhoneRule],
    *,
    display: str = "direct",
    **settings: object,
) -> Rule:
    phones = tuple(phones)
    return Rule(
        name=name,
        paths=("/**",),
        provider=provider,
        display=display,  # type: ignore[arg-type]
        phones=phones,
        matcher=Matcher(p.phone for p in phones),
        **settings,  # type: ignore[arg-type]
    )


def config(providers: Iterable[ProviderConfig], rules: Iterable[Rule], **server: object) -> Config:
    return Config(
        source="test.toml",
        server=replace(ServerConfig(), **server),  # type: ignore[arg-type]
        providers={p.name: p for p in providers},
        rewrite=RewriteConfig(),
        rules=tuple(rules),
    )


def visitor(
    key: str = "a" * 32,
    *,
    ip: str = "84.72.113.98",
    user_agent: str = DESKTOP,
    cookies: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Visitor:
    return Visitor(
        key=key,
        ip=ip,
        user_agent=user_agent,
        is_mobile=user_agent == PIXEL,
        cookies=dict(cookies or {}),
        query=dict(query or {}),
        headers=dict(headers or {}),
    )


def page_view(
    who: Visitor,
    phones: Iterable[Phone] = (),
    *,
    rule_name: str | None = "contact",
    display: str = "direct",
    url: str = "https://www.example.fr/contact",
    referer: str = "https://www.google.com/",
) -> PageView:
    return PageView(
        visitor=who,
        url=url,
        title="Contact",
        referer=referer,
        phones=tuple(phones),
        display=display,  # type: ignore[arg-type]
        rule_name=rule_name,
    )


async def test_one_client_per_provider_by_name() -> None:
    cfg = config(
        [optico("http://127.0.0.1:9", "k"), freespee("http://127.0.0.1:9/fs", "s", "adv")],
        [rule("contact", "optico", [phone_rule("04 90 26 07 16")])],
    )
    async with ProviderHttp() as http:
        providers = build_providers(cfg, http)
        assert set(providers) == {"optico", "freespee"}
        assert isinstance(providers["optico"], OpticoProvider)
        assert isinstance(providers["freespee"], FreespeeProvider)
        assert all(p.name == name for name, p in providers.items())


async def test_reprs_hide_the_keys() -> None:
    cfg = config(
        [
            optico("http://127.0.0.1:9", SENTINEL_KEY),
            freespee("http://127.0.0.1:9/fs", SENTINEL_KEY, "adv"),
        ],
        [],
    )
    async with ProviderHttp() as http:
        providers = build_providers(cfg, http)
    for provider in providers.values():
        assert SENTINEL_KEY not in repr(provider)
        assert SENTINEL_KEY not in str(vars(provider).get("_guard"))


@pytest.mark.parametrize(
    ("name", "length", "fails"),
    [
        pytest.param("custnr", 45, False, id="custnr-at-limit"),
        pytest.param("custnr", 46, True, id="custnr-over"),
        pytest.param("custname", 61, True, id="custname-over"),
        pytest.param("custemail", 151, True, id="custemail-over"),
        pytest.param("adId", 200, False, id="other-dimension"),
    ],
)
async def test_static_parameters_over_freespee_limits(name: str, length: int, fails: bool) -> None:
    long_rule = rule(
        "ads",
        "freespee",
        [phone_rule("030 15981100", "DE")],
        parameters=(Parameter("custnr", "ok"), Parameter(name, "x" * length)),
    )
    cfg = config([freespee("http://127.0.0.1:9/fs", "s", "adv")], [long_rule])
    async with ProviderHttp() as http:
        if not fails:
            build_providers(cfg, http)
            return
        with pytest.raises(ConfigError) as raised:
            build_providers(cfg, http)
    assert raised.value.key == f"rules[0].parameters.{name}"
    assert name in str(raised.value)


async def test_static_limits_apply_to_freespee_rules_only() -> None:
    optico_rule = rule(
        "contact",
        "optico",
        [phone_rule("04 90 26 07 16")],
        parameters=(Parameter("custnr", "x" * 100),),
    )
    cfg = config([optico("http://127.0.0.1:9", "k")], [optico_rule])
    async with ProviderHttp() as http:
        build_providers(cfg, http)
