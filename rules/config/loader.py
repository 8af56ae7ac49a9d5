"""load_config: TOML text and overlays in, a checked Config out.

Reads the [server], [providers.NAME] and [rewrite] sections and their secrets here;
[[rules]] are read in `rules_section`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rules.config.model import (
    Config,
    ConfigError,
    ProviderConfig,
    ProviderKind,
    RewriteConfig,
    ServerConfig,
)
from rules.config.rules_section import _rules
from rules.config.schema import (
    ENVIRONMENT,
    PROVIDER_ENVIRONMENT,
    PROVIDER_FIELDS,
    PROVIDER_KEYS,
    REWRITE_FIELDS,
    SECRET_PREFIX,
    SECTIONS,
    SERVER_FIELDS,
    SERVER_KEYS,
)
from rules.config.tables import Convert, _Given, _Invalid, _Table
from rules.config.values import _choice, _env_name, _http_url, _listen, _nonempty

_EMPTY: Mapping[str, str] = MappingProxyType({})
_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*")


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
