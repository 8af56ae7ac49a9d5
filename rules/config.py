"""The configuration model: frozen, validated objects built from TOML text.

`load_config(text, environ=..., overrides=...)` parses the TOML, lays values from the
environment and the command line over it (flags > environment > file > defaults),
then checks every key once, at start-up: phones are parsed, path patterns and CSS
selectors compiled, provider references resolved. Request code assumes a valid
`Config`.

Every problem raises one `ConfigError` naming the file, the key path (indexes count
from 0, like TOML arrays) and the fix:

    config.toml: rules[1].phones[2]: "04 90" is not a valid phone number for region FR

Secrets (provider keys, the click token secret) never sit in the file, which names an
environment variable (`*_env`) or a file (`*_file`) holding them; the variable wins
when both are given. Secrets appear in no repr and no error message.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NoReturn, TypeVar, cast
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from rules.phones import Phone, PhoneError, is_valid_region, parse_phone
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


def compile_paths(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regex matching a request path (no query string) against any of the patterns.

    `*` alone matches every path. Otherwise a pattern starts with `/`; `*` matches
    any characters but `/` (within one segment), `**` any characters at all, and a
    trailing `/**` also matches the folder itself (`/products/**` matches
    `/products`). Every other character stands for itself: a pattern without
    wildcards matches that exact path. Raises ValueError for a malformed pattern.
    """
    return re.compile("|".join(f"(?:{_path_regex(p)})" for p in patterns) or "(?!)")


def _path_regex(pattern: str) -> str:
    if pattern == "*":
        return ".*"
    if not pattern.startswith("/"):
        raise _Bad(f'"{pattern}" must start with "/" (or be "*" for every path)')
    stem, folder = (pattern[:-3], "(?:/.*)?") if pattern.endswith("/**") else (pattern, "")
    parts = (re.escape(part).replace(r"\*", "[^/]*") for part in stem.split("**"))
    return ".*".join(parts) + folder


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", compile_paths(self.paths))

    def matches(self, path: str) -> bool:
        return self._pattern.fullmatch(path.partition("?")[0]) is not None

    def phone_rule(self, e164: str) -> PhoneRule | None:
        return next((p for p in self.phones if p.phone.e164 == e164), None)


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


# --- Reading tables: key paths, typed reads, unknown keys --------------------------------

T = TypeVar("T")
Convert = Callable[[object], Any]
_MISSING = object()
_EMPTY: Mapping[str, str] = MappingProxyType({})
SECRET_LITERALS = ("api_key", "secret", "token_secret")
"""Secrets written in the file itself: refused, pointing at the `_env`/`_file` keys."""


class _Bad(ValueError):
    """A value's problem, before its key path is known; `at` extends the path ("[2]")."""

    def __init__(self, message: str, at: str = "") -> None:
        super().__init__(message)
        self.at = at


class _Invalid(Exception):
    """A problem at a key path; `source` replaces the file for values set elsewhere."""

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.key, self.message, self.source = key, message, source


class _Text(str):
    """A value given as text (environment, command line), which converters parse."""


@dataclass(frozen=True)
class _Given:
    """A value set outside the file, with where it came from for errors."""

    text: str
    source: str
    name: str


def _describe(value: object) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), "a date or time")


_KINDS: tuple[tuple[type, str], ...] = (
    *((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string")),
    *((list, "an array"), (dict, "a table")),
)


def _unknown(name: str, known: Collection[str]) -> str:
    if name in SECRET_LITERALS:
        return (
            f'secrets never go in the config file: set {name}_env = "VARIABLE" '
            f'(an environment variable holding it) or {name}_file = "path/to/file" instead'
        )
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return "unknown key; expected one of: " + ", ".join(sorted(known))


class _Table:
    """One TOML table being read, with its key path for errors."""

    def __init__(self, data: Mapping[str, object], path: str) -> None:
        self.data, self.path = data, path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str, at: str = "") -> NoReturn:
        value = self.data.get(name)
        if isinstance(value, _Given):
            raise _Invalid(value.name, message, value.source)
        raise _Invalid(self.key(name) + at, message)

    def only(self, known: Collection[str], hint: Callable[[str], str] = lambda _: "") -> None:
        for name in self.data:
            if name not in known:
                self.fail(name, hint(name) or _unknown(name, known))

    def has(self, name: str) -> bool:
        return name in self.data

    def read(self, name: str, default: T, convert: Callable[[object], T]) -> T:
        value = self.data.get(name, _MISSING)
        if value is _MISSING:
            return default
        try:
            return convert(_Text(value.text) if isinstance(value, _Given) else value)
        except _Bad as exc:
            self.fail(name, str(exc), exc.at)

    def required(self, name: str, convert: Callable[[object], T], example: str) -> T:
        if name not in self.data:
            raise _Invalid(self.key(name), f"missing; add {name} = {example}")
        return self.read(name, cast(T, None), convert)

    def table(self, name: str) -> _Table:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.fail(name, f"expected a table ([{self.key(name)}]), got {_describe(value)}")
        return _Table(value, self.key(name))

    def tables(self, name: str) -> list[_Table]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(name, f"expected an array of tables ([[{name}]]), got {_describe(value)}")
        return [_Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]


# --- Converters: a TOML (or _Text) value in, a checked value out, or _Bad ---------------

SIZE_UNITS: Mapping[str, int] = {
    **{"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9},
    **{"kib": 2**10, "mib": 2**20, "gib": 2**30},
}
DURATION_UNITS: Mapping[str, float] = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_QUANTITY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {_describe(value)}")
    return str(value)


def _nonempty(value: object) -> str:
    if not _string(value).strip():
        raise _Bad("must not be empty")
    return str(value)


def _boolean(value: object) -> bool:
    if isinstance(value, _Text) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_describe(value)}")
    return value


def _integer(minimum: int, meaning: str = "") -> Callable[[object], int]:
    def convert(value: object) -> int:
        if isinstance(value, _Text) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"expected an integer, got {_describe(value)}")
        if value < minimum:
            raise _Bad(meaning or f"must be at least {minimum}, got {value}")
        return value

    return convert


_POOL_TYPE = _integer(1, "a pool type is a positive integer (Optico's Tracking Type table)")


def _choice(*options: str) -> Callable[[object], Any]:
    def convert(value: object) -> str:
        text = _string(value)
        if text.lower() not in options:
            raise _Bad(f'"{text}" is not one of: ' + ", ".join(f'"{o}"' for o in options))
        return text.lower()

    return convert


def _quantity(value: object, units: Mapping[str, float]) -> object:
    """A string like "4MiB" or "1500ms" as a number of base units, anything else as is."""
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if match and match[2].lower() in units:
        return float(match[1]) * units[match[2].lower()]
    return value


def _size(value: object) -> int:
    number = _quantity(value, SIZE_UNITS)
    if isinstance(number, bool) or not isinstance(number, int | float) or number < 1:
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        raise _Bad(f'expected a size in bytes like 4194304, "4MiB" or "512KiB", got {shown}')
    return int(number)


def _duration(zero: bool = False, maximum: float = float("inf"), why: str = "") -> Convert:
    """Seconds, as a number or a string with a unit; more than 0 unless `zero`."""

    def convert(value: object) -> float:
        number = _quantity(value, DURATION_UNITS)
        if isinstance(number, bool) or not isinstance(number, int | float):
            shown = f'"{value}"' if isinstance(value, str) else _describe(value)
            raise _Bad(f'expected a duration in seconds like 1.5, "1500ms" or "10s", got {shown}')
        if number < 0 or (number == 0 and not zero):
            raise _Bad(f"must be {'0 or more' if zero else 'more than 0'} seconds, got {number:g}")
        if number > maximum:
            raise _Bad(f"{number:g} s is more than {maximum:g} s: {why}")
        return float(number)

    return convert


def _each(convert: Callable[[str], str]) -> Callable[[object], tuple[str, ...]]:
    """An array of strings (or comma-separated text), each converted; errors name the index."""

    def convert_all(value: object) -> tuple[str, ...]:
        if isinstance(value, _Text):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise _Bad(f"expected an array of strings, got {_describe(value)}")
        converted = []
        for index, item in enumerate(value):
            try:
                converted.append(convert(_string(item)))
            except _Bad as exc:
                raise _Bad(str(exc), f"[{index}]") from None
        return tuple(converted)

    return convert_all


def _listen(value: object) -> tuple[str, int]:
    host, _, port = value.rpartition(":") if isinstance(value, str) else ("", "", "")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or int(port) > 65535:
        example = '"127.0.0.1:8080" ("0.0.0.0:8080" for every interface)'
        shown = f'"{value}"' if isinstance(value, str) else _describe(value)
        raise _Bad(f"expected HOST:PORT like {example}, got {shown}")
    return str(host), int(port)


def _http_url(value: object) -> str:
    parts = urlsplit(_string(value))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise _Bad(f'expected an http(s) URL like "http://127.0.0.1:8000", got "{value}"')
    return str(value).rstrip("/")


def _cidr(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise _Bad(
            f'"{text}" is not an IP network: write it like "10.0.0.0/8" or "10.1.2.3"'
        ) from None


def _prefix(value: object) -> str:
    text = _string(value).rstrip("/")
    if not text.startswith("/") or any(c in text for c in "?#*"):
        raise _Bad(f'expected a path prefix starting with "/" like "/__dni", got "{value}"')
    return text


def _region(value: object) -> str:
    if not is_valid_region(_string(value)):
        raise _Bad(f'"{value}" is not a region: use a two-letter country code like "FR"')
    return str(value).upper()


def _code_template(value: object) -> str:
    text = _string(value)
    try:
        ok = "{code}" in text and text.format(code="") is not None
    except (IndexError, KeyError, ValueError):
        ok = False
    if not ok:
        raise _Bad(f'"{text}" must contain {{code}} and no other {{...}} (write {{{{ for "{{")')
    return text


def _env_name(value: object) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        # Never echo the value: it may be the secret itself, pasted in the wrong key.
        raise _Bad(
            "expected the NAME of an environment variable (capitals, digits and _) like "
            "DNI_OPTICO_API_KEY; the secret itself goes in that variable"
        )
    return value


def _path(text: str) -> str:
    _path_regex(text)
    return text


def _selector(text: str) -> str:
    try:
        LexborHTMLParser("<p></p>").css(text)
    except SelectolaxError:
        raise _Bad(f'"{text}" is not a valid CSS selector') from None
    return text


def _rule_name(value: object) -> str:
    if not _RULE_NAME.fullmatch(_string(value)):
        raise _Bad(f'"{value}" is not a rule name: use letters, digits, "-", "_" and "."')
    return str(value)


def _limited(limit: int, what: str) -> Callable[[object], str]:
    def convert(value: object) -> str:
        text = _string(value)
        if len(text) > limit:
            raise _Bad(f"{len(text)} characters; {what} takes at most {limit}: shorten it")
        return text

    return convert


# --- What may be written where ---------------------------------------------------------

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


# --- The loader --------------------------------------------------------------------------


def load_config(
    text: str,
    *,
    source: str = "config.toml",
    environ: Mapping[str, str] = _EMPTY,
    overrides: Mapping[str, str] = _EMPTY,
    read_secret: Callable[[str], str] | None = None,
) -> Config:
    """Build a Config from TOML text; raise ConfigError naming file, key path and fix.

    `read_secret(path)` returns the text of a `*_file` secret (relative paths are the
    caller's to resolve); the OSError it raises becomes a ConfigError naming the key.
    """
    try:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _Invalid("", f"not valid TOML: {exc}") from None
        _overlay(data, environ, overrides)
        return _config(_Table(data, ""), source, _Secrets(environ, read_secret))
    except _Invalid as exc:
        raise ConfigError(exc.source or source, exc.key, exc.message) from None


def _overlay(
    data: dict[str, Any], environ: Mapping[str, str], overrides: Mapping[str, str]
) -> None:
    """Lay environment values, then command-line values, over the file's."""
    providers = data.get("providers")
    variables = dict(ENVIRONMENT)
    for name in providers if isinstance(providers, dict) else ():
        for key in PROVIDER_ENVIRONMENT:
            variable = f"DNI_PROVIDERS_{name.upper().replace('-', '_')}_{key.upper()}"
            variables[variable] = f"providers.{name}.{key}"
    for variable, key in variables.items():
        if environ.get(variable):
            _set(data, key, _Given(environ[variable], "environment", variable))
    for key, value in overrides.items():
        _set(data, key, _Given(value, "command line", key))


def _set(data: dict[str, Any], key: str, given: _Given) -> None:
    *parents, leaf = key.split(".")
    depth = 2 if parents[:1] == ["providers"] else 1
    if len(parents) != depth or parents[0] not in ("server", "rewrite", "providers"):
        fix = "only server.KEY, rewrite.KEY and providers.NAME.KEY can be set this way"
        raise _Invalid(key, fix, given.source)
    table: object = data
    for level, part in enumerate(parents):
        if not isinstance(table, dict):
            return  # the file's own type error is reported when the section is read
        if level == 1 and part not in table:
            raise _Invalid(key, f"the config file has no [providers.{part}]", given.source)
        table = table.setdefault(part, {})
    if isinstance(table, dict):
        table[leaf] = given


def _config(root: _Table, source: str, secrets: _Secrets) -> Config:
    root.only(SECTIONS)
    rewrite = _rewrite(root.table("rewrite"))
    providers = _providers(root.table("providers"), secrets)
    return Config(
        source=source,
        server=_server(root.table("server"), secrets),
        providers=providers,
        rewrite=rewrite,
        rules=_rules(root.tables("rules"), providers, rewrite.region),
        sandbox=dict(root.table("sandbox").data),
    )


def _fields(t: _Table, fields: Mapping[str, Convert], defaults: object) -> dict[str, Any]:
    return {name: t.read(name, getattr(defaults, name), fields[name]) for name in fields}


def _rewrite(t: _Table) -> RewriteConfig:
    t.only(REWRITE_FIELDS)
    return RewriteConfig(**_fields(t, REWRITE_FIELDS, RewriteConfig()))


def _server(t: _Table, secrets: _Secrets) -> ServerConfig:
    t.only(SERVER_KEYS)
    defaults = ServerConfig()
    host, port = t.read("listen", (defaults.listen_host, defaults.listen_port), _listen)
    secret, origin = secrets.resolve(t, "token_secret") or (None, None)
    return ServerConfig(
        listen_host=host,
        listen_port=port,
        token_secret=secret,
        token_secret_origin=origin,
        **_fields(t, SERVER_FIELDS, defaults),
    )


@dataclass(frozen=True)
class _Secrets:
    environ: Mapping[str, str]
    read: Callable[[str], str] | None

    def resolve(self, t: _Table, prefix: str) -> tuple[str, str] | None:
        """The secret named by PREFIX_env / PREFIX_file and its origin; None if neither."""
        variable = t.read(f"{prefix}_env", None, _env_name)
        path = t.read(f"{prefix}_file", None, _nonempty)
        if variable is not None and self.environ.get(variable):
            return self.environ[variable], f"env {variable}"
        if path is not None:
            return self._read(t, f"{prefix}_file", path), f"file {path}"
        if variable is not None:
            fix = f'set it, or add {prefix}_file = "path/to/file"'
            t.fail(f"{prefix}_env", f"environment variable {variable} is not set: {fix}")
        return None

    def _read(self, t: _Table, key: str, path: str) -> str:
        if self.read is None:
            t.fail(key, "secret files are read only when loading a config file")
        try:
            secret = self.read(path).strip()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            t.fail(key, f'cannot read "{path}" ({reason}); fix the path (relative to the config)')
        if not secret:
            t.fail(key, f'"{path}" is empty; write the secret in it')
        return secret


def _providers(t: _Table, secrets: _Secrets) -> dict[str, ProviderConfig]:
    for name in t.data:
        if not _PROVIDER_NAME.fullmatch(name):
            t.fail(name, "a provider name is lower-case letters, digits, - and _: rename it")
    return {name: _provider(name, t.table(name), secrets) for name in t.data}


def _provider(name: str, t: _Table, secrets: _Secrets) -> ProviderConfig:
    kind: ProviderKind = t.required("kind", _choice("optico", "freespee"), '"optico"')
    t.only(PROVIDER_KEYS[kind], lambda key: _other_kind(kind, key))
    prefix = SECRET_PREFIX[kind]
    secret = secrets.resolve(t, prefix)
    if secret is None:
        fix = f'add {prefix}_env = "VARIABLE" or {prefix}_file = "path/to/file"'
        raise _Invalid(t.path, f"no {prefix}: {fix}")
    defaults = ProviderConfig(name=name, kind=kind, url="", api_key="")
    adv_id = t.required("adv_id", _nonempty, '"ACCOUNT"') if kind == "freespee" else None
    return ProviderConfig(
        name=name,
        kind=kind,
        url=t.required("url", _http_url, '"https://..."'),
        api_key=secret[0],
        api_key_origin=secret[1],
        adv_id=adv_id,
        **_fields(t, PROVIDER_FIELDS[kind], defaults),
    )


def _other_kind(kind: ProviderKind, key: str) -> str:
    other: ProviderKind = "freespee" if kind == "optico" else "optico"
    if key not in PROVIDER_KEYS[other]:
        return ""
    return f'"{key}" is for {other} providers; {kind} takes ' + ", ".join(PROVIDER_KEYS[kind])


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
