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

The modules, each depending only on those above it:

    tables         reading TOML tables: key paths, typed reads, the internal errors
    paths          path patterns compiled to one regex
    model          the frozen dataclasses and ConfigError
    values         converters: sizes, durations, addresses, CIDRs, URLs, names
    schema         what may be written where: keys, converters, limits, environment
    rules_section  the [[rules]] section
    loader         load_config and the [server], [providers] and [rewrite] sections

The names below are the package's surface; underscored names are shared between its
modules only.
"""

from rules.config.loader import load_config
from rules.config.model import (
    Config,
    ConfigError,
    Display,
    Parameter,
    PhoneRule,
    ProviderConfig,
    ProviderKind,
    RewriteConfig,
    Rule,
    ServerConfig,
    SignIn,
)
from rules.config.paths import compile_paths
from rules.config.schema import (
    CLIENT_DATA,
    ENVIRONMENT,
    FREESPEE_LIMITS,
    KIND_RULE_KEYS,
    LOG_LEVELS,
    PARAMETER_SOURCES,
    PHONE_KEYS,
    PROVIDER_ENVIRONMENT,
    PROVIDER_FIELDS,
    PROVIDER_KEYS,
    PROVIDER_TIMEOUT_MAX,
    REWRITE_FIELDS,
    RULE_KEYS,
    SECRET_PREFIX,
    SECTIONS,
    SERVER_FIELDS,
    SERVER_KEYS,
)
from rules.config.tables import SECRET_LITERALS, Convert
from rules.config.values import DURATION_UNITS, SIZE_UNITS

__all__ = [
    "CLIENT_DATA",
    "DURATION_UNITS",
    "ENVIRONMENT",
    "FREESPEE_LIMITS",
    "KIND_RULE_KEYS",
    "LOG_LEVELS",
    "PARAMETER_SOURCES",
    "PHONE_KEYS",
    "PROVIDER_ENVIRONMENT",
    "PROVIDER_FIELDS",
    "PROVIDER_KEYS",
    "PROVIDER_TIMEOUT_MAX",
    "REWRITE_FIELDS",
    "RULE_KEYS",
    "SECRET_LITERALS",
    "SECRET_PREFIX",
    "SECTIONS",
    "SERVER_FIELDS",
    "SERVER_KEYS",
    "SIZE_UNITS",
    "Config",
    "ConfigError",
    "Convert",
    "Display",
    "Parameter",
    "PhoneRule",
    "ProviderConfig",
    "ProviderKind",
    "RewriteConfig",
    "Rule",
    "ServerConfig",
    "SignIn",
    "compile_paths",
    "load_config",
]
