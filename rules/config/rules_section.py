"""The [[rules]] section: paths, provider, phones, selectors and Freespee parameters.

Keys that only the other kind of provider understands are refused here, naming the
rule's provider and its kind.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from rules.config.model import Parameter, PhoneRule, ProviderConfig, Rule
from rules.config.paths import _path
from rules.config.schema import (
    CLIENT_DATA,
    FREESPEE_LIMITS,
    KIND_RULE_KEYS,
    PARAMETER_SOURCES,
    PHONE_KEYS,
    RULE_KEYS,
)
from rules.config.tables import _Bad, _describe, _Invalid, _Table
from rules.config.values import (
    _POOL_TYPE,
    _choice,
    _each,
    _integer,
    _limited,
    _nonempty,
    _rule_name,
    _selector,
    _string,
)
from rules.phones import Phone, PhoneError, parse_phone
from rules.scan import Matcher


def _rules(
    tables: list[_Table], providers: Mapping[str, ProviderConfig], region: str
) -> tuple[Rule, ...]:
    names: dict[str, str] = {}
    for t in tables:
        name = t.required("name", _rule_name, '"contact"')
        if name in names:
            t.fail("name", f'"{name}" is already the name of {names[name]}; rename one of them')
        names[name] = t.path
    return tuple(_rule(t, providers, region) for t in tables)


def _rule(t: _Table, providers: Mapping[str, ProviderConfig], region: str) -> Rule:
    t.only(RULE_KEYS)
    provider = _rule_provider(t, providers)
    kind = providers[provider].kind
    foreign = {
        key: f'for {other} providers only, and provider "{provider}" is {kind}'
        for other, keys in KIND_RULE_KEYS.items()
        if other != kind
        for key in keys
    }
    _refuse(t, foreign)
    rule_type = t.read("type", None, _POOL_TYPE)
    phones = _phones(t, region, rule_type, foreign)
    expiration = _integer(-1, "-1 is the domain default, 0 expires at once, more is seconds")
    return Rule(
        name=t.required("name", _rule_name, '"contact"'),
        paths=t.required("paths", _each(_path), '["/contact*"]'),
        provider=provider,
        display=t.read("display", "direct", _choice("direct", "click")),
        phones=phones,
        matcher=Matcher(tuple(p.phone for p in phones)),
        type=rule_type,
        expiration=t.read("expiration", -1, expiration),
        include=t.read("include", (), _each(_selector)),
        exclude=t.read("exclude", (), _each(_selector)),
        parameters=_parameters(t.table("parameters")),
    )


def _refuse(t: _Table, foreign: Mapping[str, str]) -> None:
    """Fail on the first key that belongs to another kind of provider."""
    for key, message in foreign.items():
        if t.has(key):
            t.fail(key, message)


def _rule_provider(t: _Table, providers: Mapping[str, ProviderConfig]) -> str:
    if t.has("provider"):
        name = t.read("provider", "", _string)
        if name not in providers:
            close = difflib.get_close_matches(name, list(providers), n=1)
            fix = f'did you mean "{close[0]}"?' if close else f"add a [providers.{name}] table"
            t.fail("provider", f'no provider "{name}"; {fix}')
        return name
    if len(providers) == 1:
        return next(iter(providers))
    if not providers:
        raise _Invalid(t.path, "no provider for these pages: add a [providers.NAME] table")
    example = f'provider = "{next(iter(providers))}"'
    raise _Invalid(t.key("provider"), f"missing: name one of {', '.join(providers)}: {example}")


def _phones(
    t: _Table, region: str, rule_type: int | None, foreign: Mapping[str, str]
) -> tuple[PhoneRule, ...]:
    items = t.required("phones", _phone_list, '["04 90 26 07 16"]')
    phones: dict[str, PhoneRule] = {}
    for index, item in enumerate(items):
        key = f"{t.key('phones')}[{index}]"
        phone = _phone_rule(item, key, region, rule_type, foreign)
        if phone.phone.e164 in phones:
            first = list(phones).index(phone.phone.e164)
            message = f"{phone.phone.e164} is already phones[{first}]; list each number once"
            raise _Invalid(key, message)
        phones[phone.phone.e164] = phone
    return tuple(phones.values())


def _phone_list(value: object) -> list[object]:
    if not isinstance(value, list) or not value:
        example = 'phones = ["04 90 26 07 16"]'
        raise _Bad(f"expected a non-empty array of phones like {example}")
    return list(value)


def _phone_rule(
    item: object, key: str, region: str, rule_type: int | None, foreign: Mapping[str, str]
) -> PhoneRule:
    if isinstance(item, str):
        return PhoneRule(_parse(item, key, region), item, rule_type)
    if not isinstance(item, dict):
        example = '"04 90 26 07 16" or { number = "04 90 26 07 16", type = 6 }'
        raise _Invalid(key, f"expected a phone like {example}, got {_describe(item)}")
    t = _Table(item, key)
    t.only(PHONE_KEYS)
    _refuse(t, foreign)
    written = t.required("number", _string, '"04 90 26 07 16"')
    phone = _parse(written, t.key("number"), region)
    phone_type = t.read("type", rule_type, _POOL_TYPE)
    return PhoneRule(phone, written, phone_type, t.read("client_data", None, CLIENT_DATA))


def _parse(text: str, key: str, region: str) -> Phone:
    try:
        return parse_phone(text, region)
    except PhoneError as exc:
        raise _Invalid(key, str(exc)) from None


def _parameters(t: _Table) -> tuple[Parameter, ...]:
    return tuple(_parameter(name, t) for name in t.data)


def _parameter(name: str, t: _Table) -> Parameter:
    static = _limited(FREESPEE_LIMITS.get(name, 10**6), f"Freespee's {name}")
    if isinstance(t.data[name], str):
        return Parameter(name, value=t.read(name, "", static))
    if not isinstance(t.data[name], dict):
        t.fail(name, 'expected a string or a table like { query = "utm_source" }')
    source = t.table(name)
    source.only(PARAMETER_SOURCES)
    if len(source.data) != 1:
        raise _Invalid(source.path, "give exactly one of value, query, cookie or header")
    (where,) = source.data
    return Parameter(
        name, **{where: source.read(where, "", static if where == "value" else _nonempty)}
    )
