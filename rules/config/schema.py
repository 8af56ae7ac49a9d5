"""What may be written where: the sections, keys, their converters and limits."""

from __future__ import annotations

from collections.abc import Mapping

from rules.config.model import ProviderKind
from rules.config.tables import Convert
from rules.config.values import (
    _boolean,
    _choice,
    _cidr,
    _code_template,
    _duration,
    _each,
    _http_url,
    _integer,
    _limited,
    _nonempty,
    _prefix,
    _region,
    _size,
    _size_or_off,
)

SECTIONS = ("server", "providers", "rewrite", "rules", "sandbox")
LOG_LEVELS = ("debug", "info", "warning", "error")
PROVIDER_TIMEOUT_MAX = 5.0
_LATE = "pages wait for the provider, so visitors would get them that late; use at most 5"

# Key -> how it is read; the defaults are the dataclasses'.
SERVER_FIELDS: Mapping[str, Convert] = {
    "upstream": _http_url,
    "preserve_host": _boolean,
    "public_scheme": _choice("http", "https"),
    "trusted_proxies": _each(_cidr),
    "prefix": _prefix,
    "rewrite_max_bytes": _size,
    "scan_cache_bytes": _size_or_off,
    "request_body_max_bytes": _size,
    "header_timeout": _duration(),
    "upstream_connect_timeout": _duration(),
    "upstream_timeout": _duration(),
    "max_connections": _integer(1),
    "shutdown_grace": _duration(zero=True),
    "token_ttl": lambda value: max(1, round(_duration()(value))),
    "click_rate_per_ip": _integer(1),
    "click_rate_per_visit": _integer(1),
    "log_level": _choice(*LOG_LEVELS),
}
SERVER_KEYS = ("listen", *SERVER_FIELDS, "token_secret_env", "token_secret_file")
_PROVIDER_COMMON: Mapping[str, Convert] = {
    "timeout": _duration(maximum=PROVIDER_TIMEOUT_MAX, why=_LATE),
    "max_concurrency": _integer(1),
    "breaker_failures": _integer(1),
    "breaker_cooldown": _duration(),
}
PROVIDER_FIELDS: Mapping[ProviderKind, Mapping[str, Convert]] = {
    "optico": _PROVIDER_COMMON,
    "freespee": {
        **_PROVIDER_COMMON,
        "sign_in": _choice("header", "query"),
        "anonymize_ip": _boolean,
    },
}
SECRET_PREFIX: Mapping[ProviderKind, str] = {"optico": "api_key", "freespee": "secret"}
PROVIDER_KEYS: Mapping[ProviderKind, tuple[str, ...]] = {
    "optico": ("kind", "url", *PROVIDER_FIELDS["optico"], "api_key_env", "api_key_file"),
    "freespee": (
        "kind",
        "url",
        "adv_id",
        "secret_env",
        "secret_file",
        *PROVIDER_FIELDS["freespee"],
    ),
}
REWRITE_FIELDS: Mapping[str, Convert] = {
    "region": _region,
    "code_template": _code_template,
    "click_label": _nonempty,
}
RULE_KEYS = (
    *("name", "paths", "provider", "display", "phones"),
    *("type", "expiration", "include", "exclude", "parameters"),
)
# Rule and phone keys that only one kind of provider understands.
KIND_RULE_KEYS: Mapping[ProviderKind, tuple[str, ...]] = {
    "optico": ("type", "expiration", "client_data"),
    "freespee": ("parameters",),
}
PHONE_KEYS = ("number", "type", "client_data")
PARAMETER_SOURCES = ("value", "query", "cookie", "header")
CLIENT_DATA = _limited(500, "Optico")  # "Max 500 characters per entry"
FREESPEE_LIMITS: Mapping[str, int] = {"custnr": 45, "custname": 60, "custemail": 150}

# Environment variables laid over the file (below command-line flags). Each
# [providers.NAME] also reads DNI_PROVIDERS_<NAME>_URL and DNI_PROVIDERS_<NAME>_TIMEOUT.
ENVIRONMENT: Mapping[str, str] = {
    "DNI_LISTEN": "server.listen",
    "DNI_UPSTREAM": "server.upstream",
    "DNI_LOG_LEVEL": "server.log_level",
    "DNI_SERVER_PUBLIC_SCHEME": "server.public_scheme",
    "DNI_SERVER_TRUSTED_PROXIES": "server.trusted_proxies",
    "DNI_SERVER_PRESERVE_HOST": "server.preserve_host",
    "DNI_SERVER_MAX_CONNECTIONS": "server.max_connections",
}
PROVIDER_ENVIRONMENT = ("url", "timeout")
