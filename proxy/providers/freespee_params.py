"""Freespee custom dimensions and the visitor address, as the request lets us send them.

Freespee validates three dimensions' lengths. A configured (static) value over its limit
is a config error caught at start-up; a value taken from the request (a query
parameter, a cookie, a header) over its limit is dropped and logged by name only: the
value is visitor data.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping

from proxy.logs import log_event
from proxy.providers.base import Visitor
from rules.config import ConfigError, Parameter, Rule

LIMITS: Mapping[str, int] = {"custnr": 45, "custname": 60, "custemail": 150}
"""Freespee's documented maximum lengths, in characters."""
OTHER_LIMIT = 1000
"""Undocumented dimensions: a bound so a crafted URL cannot bloat every provider call."""

IPV4_KEPT_BITS = 24
"""Anonymised IPv4: the last octet zeroed."""
IPV6_KEPT_BITS = 48
"""Anonymised IPv6: the last 80 bits zeroed."""


def limit(name: str) -> int:
    return LIMITS.get(name, OTHER_LIMIT)


def parameters(configured: Iterable[Parameter], visitor: Visitor) -> dict[str, str]:
    """The dimensions to send: static values, then values read from the request."""
    sent: dict[str, str] = {}
    for parameter in configured:
        value = (
            parameter.value if parameter.value is not None else _from_request(parameter, visitor)
        )
        if value is None:
            continue
        if len(value) > limit(parameter.name):
            log_event(
                "freespee_parameter_dropped",
                logging.WARNING,
                parameter=parameter.name,
                length=len(value),
                limit=limit(parameter.name),
            )
            continue
        sent[parameter.name] = value
    return sent


def _from_request(parameter: Parameter, visitor: Visitor) -> str | None:
    sources = (
        (parameter.query, visitor.query),
        (parameter.cookie, visitor.cookies),
        (parameter.header, visitor.headers),
    )
    for key, values in sources:
        if key is not None and values.get(key) is not None:
            return values[key]
    return None


def anonymize_ip(ip: str) -> str:
    """The address with its host part zeroed; empty when it is not an address at all."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    kept = IPV4_KEPT_BITS if address.version == 4 else IPV6_KEPT_BITS
    return str(ipaddress.ip_network(f"{address}/{kept}", strict=False).network_address)


def check_static(source: str, rules: Iterable[Rule], providers: Iterable[str]) -> None:
    """Raise `ConfigError` naming the key when a configured value exceeds Freespee's limit.

    The TOML loader refuses these already; this guards configs built in code, with the
    loader's key names. `rules` are all the config's rules (for their indexes),
    `providers` the Freespee ones.
    """
    freespee = set(providers)
    for rule_index, rule in enumerate(rules):
        for parameter in rule.parameters if rule.provider in freespee else ():
            if parameter.value is not None and len(parameter.value) > limit(parameter.name):
                raise ConfigError(
                    source,
                    f"rules[{rule_index}].parameters.{parameter.name}",
                    f"{parameter.name} is {len(parameter.value)} characters; Freespee accepts "
                    f"at most {limit(parameter.name)}: shorten the value",
                )
