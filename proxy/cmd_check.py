"""`dni-edge check`: load the config as `run` would, and say what it sets up.

Exit 0 with a summary on stdout, or 2 with the one-line error on stderr. It opens no
socket and calls no provider. Secrets are never printed, only where they come from.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from proxy.config_io import add_config_argument, config_path, load_config_file
from rules.config import Config, ConfigError, ProviderConfig, Rule


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate a config file and summarise it",
        description="Validate a config file (phones, patterns, selectors, providers, "
        "secrets) and print what it sets up. Exit 0 if valid, 2 if not.",
    )
    add_config_argument(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config_file(config_path(args.config))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print("\n".join(summary(config)))
    return 0


def summary(config: Config) -> Iterator[str]:
    """The config as readable lines, secrets reduced to their origin."""
    server = config.server
    yield f"{config.source}: OK"
    yield ""
    yield "server"
    yield f"  listen          {server.listen_host}:{server.listen_port}"
    yield f"  upstream        {server.upstream}"
    yield f"  endpoints       {server.prefix}/"
    proxies = ", ".join(server.trusted_proxies) or "none (X-Forwarded-For ignored)"
    yield f"  trusted proxies {proxies}"
    yield f"  token secret    {_origin(server.token_secret_origin)}"
    yield f"  log level       {server.log_level}"
    yield ""
    yield "providers"
    for provider in config.providers.values():
        yield from _provider(provider)
    if not config.providers:
        yield "  none: pages pass through unchanged"
    yield ""
    yield f"rules (first match wins; phones read in region {config.rewrite.region})"
    for rule in config.rules:
        yield from _rule(rule)
    if not config.rules:
        yield "  none: pages pass through unchanged"


def _origin(origin: str | None) -> str:
    if origin is None:
        return "random at each start (set token_secret_env or token_secret_file to share one)"
    return f"set (from {origin})"


def _provider(provider: ProviderConfig) -> Iterator[str]:
    key = "api key" if provider.kind == "optico" else "secret"
    yield f"  {provider.name}: {provider.kind} at {provider.url}, timeout {provider.timeout:g} s"
    yield f"    {key}: {_origin(provider.api_key_origin)}"
    if provider.kind == "freespee":
        ip = "anonymized" if provider.anonymize_ip else "sent whole"
        yield f"    adv_id {provider.adv_id}, signature in {provider.sign_in}, visitor ip {ip}"


def _rule(rule: Rule) -> Iterator[str]:
    yield f"  {rule.name}: paths {' '.join(rule.paths)}"
    yield f"    display {rule.display}, provider {rule.provider}, expiration {rule.expiration}"
    for phone in rule.phones:
        extra = f"  type {phone.type}" if phone.type is not None else ""
        extra += f'  client_data "{phone.client_data}"' if phone.client_data else ""
        yield f'    {phone.phone.e164:<14} written "{phone.written}"{extra}'
    if rule.include:
        yield f"    only inside: {', '.join(rule.include)}"
    if rule.exclude:
        yield f"    never inside: {', '.join(rule.exclude)}"
    for parameter in rule.parameters:
        where = [f"{k} {v!r}" for k, v in vars(parameter).items() if k != "name" and v]
        yield f"    parameter {parameter.name}: {', '.join(where)}"
