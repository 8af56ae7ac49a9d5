"""Loading the config: every error names file, key path and fix; precedence; secrets; paths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from proxy.config_io import config_path, load_config_file
from rules.config import Config, ConfigError, Rule, compile_paths, load_config
from rules.scan import Matcher

REPO = Path(__file__).resolve().parents[1]
SENTINEL = "SENTINEL-7f3a-secret"

OPTICO = """
[providers.optico]
kind = "optico"
url = "http://127.0.0.1:8090"
api_key_env = "KEY"
"""
FREESPEE = """
[providers.fs]
kind = "freespee"
url = "http://127.0.0.1:8090/freespee/dynamic-numbers"
adv_id = "demo"
secret_env = "KEY"
"""
ENV = {"KEY": SENTINEL}


def rule(body: str, providers: str = OPTICO) -> str:
    """A config with one provider and one rule named "site" plus `body`."""
    return providers + '\n[[rules]]\nname = "site"\npaths = ["*"]\n' + body


def phones(*items: str) -> str:
    return rule("phones = [" + ", ".join(items) + "]\n")


def read_secret(path: str) -> str:
    secrets = {"key.txt": f"  {SENTINEL}\n", "empty.txt": " \n"}
    if path not in secrets:
        raise FileNotFoundError(2, "No such file or directory")
    return secrets[path]


def load(
    text: str,
    environ: Mapping[str, str] = ENV,
    overrides: Mapping[str, str] | None = None,
) -> Config:
    return load_config(text, environ=environ, overrides=overrides or {}, read_secret=read_secret)


def error(text: str, environ: Mapping[str, str] = ENV) -> str:
    with pytest.raises(ConfigError) as caught:
        load(text, environ)
    return str(caught.value)


# --- every error class, with its exact message -----------------------------------------

SYNTAX_AND_SHAPE = [
    pytest.param(
        "[server]\nlisten = \n",
        "config.toml: not valid TOML: Invalid value (at line 2, column 10)",
        id="toml-syntax",
    ),
    pytest.param(
        "[sever]\n",
        'config.toml: sever: unknown key; did you mean "server"?',
        id="unknown-section-suggested",
    ),
    pytest.param(
        "zzz = 1\n",
        "config.toml: zzz: unknown key; expected one of: "
        "providers, rewrite, rules, sandbox, server",
        id="unknown-key-listed",
    ),
    pytest.param(
        "[server]\nlisen = '127.0.0.1:1'\n",
        'config.toml: server.lisen: unknown key; did you mean "listen"?',
        id="unknown-server-key",
    ),
    pytest.param(
        "server = 3\n",
        "config.toml: server: expected a table ([server]), got an integer",
        id="section-not-table",
    ),
    pytest.param(
        "rules = 'all'\n",
        "config.toml: rules: expected an array of tables ([[rules]]), got a string",
        id="rules-not-array-of-tables",
    ),
]

SERVER = [
    pytest.param(
        "[server]\nlisten = 8080\n",
        'config.toml: server.listen: expected HOST:PORT like "127.0.0.1:8080" '
        '("0.0.0.0:8080" for every interface), got an integer',
        id="listen-type",
    ),
    pytest.param(
        "[server]\nlisten = '8080'\n",
        'config.toml: server.listen: expected HOST:PORT like "127.0.0.1:8080" '
        '("0.0.0.0:8080" for every interface), got "8080"',
        id="listen-no-host",
    ),
    pytest.param(
        "[server]\nlisten = 'localhost:70000'\n",
        'config.toml: server.listen: expected HOST:PORT like "127.0.0.1:8080" '
        '("0.0.0.0:8080" for every interface), got "localhost:70000"',
        id="listen-port-range",
    ),
    pytest.param(
        "[server]\nupstream = 'ftp://example.com'\n",
        'config.toml: server.upstream: expected an http(s) URL like "http://127.0.0.1:8000", '
        'got "ftp://example.com"',
        id="upstream-scheme",
    ),
    pytest.param(
        "[server]\ntrusted_proxies = ['10.0.0.0/8', 'gateway']\n",
        'config.toml: server.trusted_proxies[1]: "gateway" is not an IP network: '
        'write it like "10.0.0.0/8" or "10.1.2.3"',
        id="trusted-proxy-cidr",
    ),
    pytest.param(
        "[server]\ntrusted_proxies = '10.0.0.0/8'\n",
        "config.toml: server.trusted_proxies: expected an array of strings, got a string",
        id="trusted-proxies-type",
    ),
    pytest.param(
        "[server]\npreserve_host = 'yes'\n",
        "config.toml: server.preserve_host: expected true or false, got a string",
        id="boolean-type",
    ),
    pytest.param(
        "[server]\nmax_connections = '1024'\n",
        "config.toml: server.max_connections: expected an integer, got a string",
        id="integer-type",
    ),
    pytest.param(
        "[server]\nmax_connections = 0\n",
        "config.toml: server.max_connections: must be at least 1, got 0",
        id="integer-minimum",
    ),
    pytest.param(
        "[server]\nrewrite_max_bytes = '4 parsecs'\n",
        'config.toml: server.rewrite_max_bytes: expected a size in bytes like 4194304, "4MiB" '
        'or "512KiB", got "4 parsecs"',
        id="size-unit",
    ),
    pytest.param(
        "[server]\nrequest_body_max_bytes = 0\n",
        "config.toml: server.request_body_max_bytes: expected a size in bytes like 4194304, "
        '"4MiB" or "512KiB", got 0',
        id="size-zero",
    ),
    pytest.param(
        "[server]\nupstream_timeout = 'soon'\n",
        "config.toml: server.upstream_timeout: expected a duration in seconds like 1.5, "
        '"1500ms" or "10s", got "soon"',
        id="duration-unit",
    ),
    pytest.param(
        "[server]\nheader_timeout = 0\n",
        "config.toml: server.header_timeout: must be more than 0 seconds, got 0",
        id="duration-zero",
    ),
    pytest.param(
        "[server]\nshutdown_grace = -1\n",
        "config.toml: server.shutdown_grace: must be 0 or more seconds, got -1",
        id="duration-negative",
    ),
    pytest.param(
        "[server]\nlog_level = 'verbose'\n",
        'config.toml: server.log_level: "verbose" is not one of: "debug", "info", "warning", '
        '"error"',
        id="log-level",
    ),
    pytest.param(
        "[server]\nprefix = '__dni'\n",
        'config.toml: server.prefix: expected a path prefix starting with "/" like "/__dni", '
        'got "__dni"',
        id="prefix-slash",
    ),
    pytest.param(
        f"[server]\ntoken_secret = '{SENTINEL}'\n",
        "config.toml: server.token_secret: secrets never go in the config file: set "
        'token_secret_env = "VARIABLE" (an environment variable holding it) or '
        'token_secret_file = "path/to/file" instead',
        id="token-secret-literal",
    ),
    pytest.param(
        "[server]\ntoken_secret_env = 'UNSET_VARIABLE'\n",
        "config.toml: server.token_secret_env: environment variable UNSET_VARIABLE is not set: "
        'set it, or add token_secret_file = "path/to/file"',
        id="token-secret-env-unset",
    ),
]

REWRITE = [
    pytest.param(
        "[rewrite]\nregion = 'France'\n",
        'config.toml: rewrite.region: "France" is not a region: use a two-letter country code '
        'like "FR"',
        id="region",
    ),
    pytest.param(
        "[rewrite]\ncode_template = ' (code)'\n",
        'config.toml: rewrite.code_template: " (code)" must contain {code} and no other {...} '
        '(write {{ for "{")',
        id="code-template-without-code",
    ),
    pytest.param(
        "[rewrite]\ncode_template = ' {code} {visitor}'\n",
        'config.toml: rewrite.code_template: " {code} {visitor}" must contain {code} and no '
        'other {...} (write {{ for "{")',
        id="code-template-other-field",
    ),
    pytest.param(
        "[rewrite]\nclick_label = ' '\n",
        "config.toml: rewrite.click_label: must not be empty",
        id="click-label-empty",
    ),
]

PROVIDERS = [
    pytest.param(
        f'[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key = "{SENTINEL}"\n',
        "config.toml: providers.optico.api_key: secrets never go in the config file: set "
        'api_key_env = "VARIABLE" (an environment variable holding it) or '
        'api_key_file = "path/to/file" instead',
        id="api-key-literal",
    ),
    pytest.param(
        '[providers.optico]\nkind = "optico"\nurl = "http://a"\n',
        'config.toml: providers.optico: no api_key: add api_key_env = "VARIABLE" or '
        'api_key_file = "path/to/file"',
        id="api-key-missing",
    ),
    pytest.param(
        f'[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key_env = "{SENTINEL}"\n',
        "config.toml: providers.optico.api_key_env: expected the NAME of an environment variable "
        "(capitals, digits and _) like DNI_OPTICO_API_KEY; the secret itself goes in that "
        "variable",
        id="api-key-env-not-a-name",
    ),
    pytest.param(
        '[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key_env = "UNSET"\n',
        "config.toml: providers.optico.api_key_env: environment variable UNSET is not set: "
        'set it, or add api_key_file = "path/to/file"',
        id="api-key-env-unset",
    ),
    pytest.param(
        '[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key_file = "nope.txt"\n',
        'config.toml: providers.optico.api_key_file: cannot read "nope.txt" (No such file or '
        "directory); fix the path (relative to the config)",
        id="api-key-file-missing",
    ),
    pytest.param(
        '[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key_file = "empty.txt"\n',
        'config.toml: providers.optico.api_key_file: "empty.txt" is empty; write the secret in it',
        id="api-key-file-empty",
    ),
    pytest.param(
        '[providers.optico]\nurl = "http://a"\napi_key_env = "KEY"\n',
        'config.toml: providers.optico.kind: missing; add kind = "optico"',
        id="kind-missing",
    ),
    pytest.param(
        '[providers.optico]\nkind = "callrail"\n',
        'config.toml: providers.optico.kind: "callrail" is not one of: "optico", "freespee"',
        id="kind-unknown",
    ),
    pytest.param(
        '[providers.optico]\nkind = "optico"\napi_key_env = "KEY"\n',
        'config.toml: providers.optico.url: missing; add url = "https://..."',
        id="url-missing",
    ),
    pytest.param(
        OPTICO + 'adv_id = "demo"\n',
        'config.toml: providers.optico.adv_id: "adv_id" is for freespee providers; optico takes '
        "kind, url, timeout, max_concurrency, breaker_failures, breaker_cooldown, api_key_env, "
        "api_key_file",
        id="key-of-other-kind",
    ),
    pytest.param(
        OPTICO + 'timeout = "6s"\n',
        "config.toml: providers.optico.timeout: 6 s is more than 5 s: pages wait for the "
        "provider, so visitors would get them that late; use at most 5",
        id="timeout-too-long",
    ),
    pytest.param(
        OPTICO + "timeout = 0\n",
        "config.toml: providers.optico.timeout: must be more than 0 seconds, got 0",
        id="timeout-zero",
    ),
    pytest.param(
        '[providers.fs]\nkind = "freespee"\nurl = "http://a"\nsecret_env = "KEY"\n',
        'config.toml: providers.fs.adv_id: missing; add adv_id = "ACCOUNT"',
        id="freespee-adv-id-missing",
    ),
    pytest.param(
        FREESPEE + 'sign_in = "body"\n',
        'config.toml: providers.fs.sign_in: "body" is not one of: "header", "query"',
        id="freespee-sign-in",
    ),
    pytest.param(
        '[providers."Optico Prod"]\nkind = "optico"\n',
        "config.toml: providers.Optico Prod: a provider name is lower-case letters, digits, - "
        "and _: rename it",
        id="provider-name",
    ),
]

RULES = [
    pytest.param(
        OPTICO + '[[rules]]\npaths = ["*"]\nphones = ["04 90 26 07 16"]\n',
        'config.toml: rules[0].name: missing; add name = "contact"',
        id="rule-name-missing",
    ),
    pytest.param(
        OPTICO + '[[rules]]\nname = "contact page"\n',
        'config.toml: rules[0].name: "contact page" is not a rule name: use letters, digits, '
        '"-", "_" and "."',
        id="rule-name-invalid",
    ),
    pytest.param(
        phones('"04 90 26 07 16"') + '[[rules]]\nname = "site"\n',
        'config.toml: rules[1].name: "site" is already the name of rules[0]; rename one of them',
        id="rule-name-duplicate",
    ),
    pytest.param(
        OPTICO + '[[rules]]\nname = "site"\nphones = ["04 90 26 07 16"]\n',
        'config.toml: rules[0].paths: missing; add paths = ["/contact*"]',
        id="paths-missing",
    ),
    pytest.param(
        OPTICO + '[[rules]]\nname = "a"\npaths = ["/", "contact*"]\nphones = ["0490260716"]\n',
        'config.toml: rules[0].paths[1]: "contact*" must start with "/" (or be "*" for every path)',
        id="path-pattern",
    ),
    pytest.param(
        phones('"04 90 26 07 16"', '"01 85 08 37 37"', '"04 90"'),
        'config.toml: rules[0].phones[2]: "04 90" is not a valid phone number for region FR',
        id="phone-invalid",
    ),
    pytest.param(
        phones('{ number = "04 90", type = 6 }'),
        'config.toml: rules[0].phones[0].number: "04 90" is not a valid phone number for region FR',
        id="phone-invalid-in-table",
    ),
    pytest.param(
        phones('"04 90 26 07 16"', '"+33 4 90 26 07 16"'),
        "config.toml: rules[0].phones[1]: +33490260716 is already phones[0]; list each number once",
        id="phone-duplicate",
    ),
    pytest.param(
        phones(),
        "config.toml: rules[0].phones: expected a non-empty array of phones like phones = "
        '["04 90 26 07 16"]',
        id="phones-empty",
    ),
    pytest.param(
        rule(""),
        'config.toml: rules[0].phones: missing; add phones = ["04 90 26 07 16"]',
        id="phones-missing",
    ),
    pytest.param(
        phones("490260716"),
        'config.toml: rules[0].phones[0]: expected a phone like "04 90 26 07 16" or { number = '
        '"04 90 26 07 16", type = 6 }, got an integer',
        id="phone-type",
    ),
    pytest.param(
        phones('{ number = "04 90 26 07 16", tpye = 6 }'),
        'config.toml: rules[0].phones[0].tpye: unknown key; did you mean "type"?',
        id="phone-unknown-key",
    ),
    pytest.param(
        phones('{ number = "04 90 26 07 16", type = 0 }'),
        "config.toml: rules[0].phones[0].type: a pool type is a positive integer (Optico's "
        "Tracking Type table)",
        id="phone-pool-type",
    ),
    pytest.param(
        phones(f'{{ number = "04 90 26 07 16", client_data = "{"x" * 501}" }}'),
        "config.toml: rules[0].phones[0].client_data: 501 characters; Optico takes at most 500: "
        "shorten it",
        id="client-data-too-long",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\ntype = -3\n'),
        "config.toml: rules[0].type: a pool type is a positive integer (Optico's Tracking Type "
        "table)",
        id="rule-pool-type",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\nexpiration = -2\n'),
        "config.toml: rules[0].expiration: -1 is the domain default, 0 expires at once, more is "
        "seconds",
        id="expiration",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\ndisplay = "popup"\n'),
        'config.toml: rules[0].display: "popup" is not one of: "direct", "click"',
        id="display",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\ninclude = ["main", "div["]\n'),
        'config.toml: rules[0].include[1]: "div[" is not a valid CSS selector',
        id="include-selector",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\nexclude = [">>"]\n'),
        'config.toml: rules[0].exclude[0]: ">>" is not a valid CSS selector',
        id="exclude-selector",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\nprovider = "optica"\n'),
        'config.toml: rules[0].provider: no provider "optica"; did you mean "optico"?',
        id="provider-unknown",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\n', OPTICO + FREESPEE),
        'config.toml: rules[0].provider: missing: name one of optico, fs: provider = "optico"',
        id="provider-ambiguous",
    ),
    pytest.param(
        '[[rules]]\nname = "site"\npaths = ["*"]\nphones = ["04 90 26 07 16"]\n',
        "config.toml: rules[0]: no provider for these pages: add a [providers.NAME] table",
        id="provider-none",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\nparameters = { custnr = "42" }\n'),
        'config.toml: rules[0].parameters: for freespee providers only, and provider "optico" '
        "is optico",
        id="parameters-on-optico",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\ntype = 6\n', FREESPEE),
        'config.toml: rules[0].type: for optico providers only, and provider "fs" is freespee',
        id="type-on-freespee",
    ),
    pytest.param(
        rule('phones = [{ number = "04 90 26 07 16", client_data = "x" }]\n', FREESPEE),
        "config.toml: rules[0].phones[0].client_data: for optico providers only, and provider "
        '"fs" is freespee',
        id="client-data-on-freespee",
    ),
    pytest.param(
        rule(f'phones = ["04 90 26 07 16"]\nparameters = {{ custnr = "{"9" * 46}" }}\n', FREESPEE),
        "config.toml: rules[0].parameters.custnr: 46 characters; Freespee's custnr takes at most "
        "45: shorten it",
        id="freespee-custnr-too-long",
    ),
    pytest.param(
        rule(
            'phones = ["04 90 26 07 16"]\n'
            f'parameters = {{ custname = {{ value = "{"n" * 61}" }} }}\n',
            FREESPEE,
        ),
        "config.toml: rules[0].parameters.custname.value: 61 characters; Freespee's custname "
        "takes at most 60: shorten it",
        id="freespee-custname-too-long",
    ),
    pytest.param(
        rule(f'phones = ["04 90 26 07 16"]\nparameters.custemail = "{"e" * 151}"\n', FREESPEE),
        "config.toml: rules[0].parameters.custemail: 151 characters; Freespee's custemail takes "
        "at most 150: shorten it",
        id="freespee-custemail-too-long",
    ),
    pytest.param(
        rule(
            'phones = ["04 90 26 07 16"]\n'
            'parameters = { src = { query = "utm_source", cookie = "src" } }\n',
            FREESPEE,
        ),
        "config.toml: rules[0].parameters.src: give exactly one of value, query, cookie or header",
        id="parameter-two-sources",
    ),
    pytest.param(
        rule('phones = ["04 90 26 07 16"]\nparameters = { src = { path = "x" } }\n', FREESPEE),
        "config.toml: rules[0].parameters.src.path: unknown key; expected one of: cookie, header, "
        "query, value",
        id="parameter-unknown-source",
    ),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX_AND_SHAPE + SERVER + REWRITE)
def test_file_errors(text: str, message: str) -> None:
    assert error(text) == message


@pytest.mark.parametrize(("text", "message"), PROVIDERS + RULES)
def test_provider_and_rule_errors(text: str, message: str) -> None:
    assert error(text) == message


OUTSIDE_THE_FILE = [
    pytest.param(
        {"DNI_LISTEN": "nowhere"},
        {},
        'environment: DNI_LISTEN: expected HOST:PORT like "127.0.0.1:8080" ("0.0.0.0:8080" for '
        'every interface), got "nowhere"',
        id="env-listen",
    ),
    pytest.param(
        {"DNI_SERVER_MAX_CONNECTIONS": "lots"},
        {},
        "environment: DNI_SERVER_MAX_CONNECTIONS: expected an integer, got a string",
        id="env-integer",
    ),
    pytest.param(
        {"DNI_PROVIDERS_OPTICO_TIMEOUT": "9s"},
        {},
        "environment: DNI_PROVIDERS_OPTICO_TIMEOUT: 9 s is more than 5 s: pages wait for the "
        "provider, so visitors would get them that late; use at most 5",
        id="env-provider-timeout",
    ),
    pytest.param(
        {},
        {"server.upstream": "127.0.0.1:8000"},
        'command line: server.upstream: expected an http(s) URL like "http://127.0.0.1:8000", '
        'got "127.0.0.1:8000"',
        id="flag-upstream",
    ),
    pytest.param(
        {},
        {"server.lisen": "127.0.0.1:1"},
        'command line: server.lisen: unknown key; did you mean "listen"?',
        id="flag-unknown-key",
    ),
    pytest.param(
        {},
        {"rules.name": "x"},
        "command line: rules.name: only server.KEY, rewrite.KEY and providers.NAME.KEY can be "
        "set this way",
        id="flag-not-overridable",
    ),
    pytest.param(
        {},
        {"providers.freespee.url": "http://a"},
        "command line: providers.freespee.url: the config file has no [providers.freespee]",
        id="flag-unknown-provider",
    ),
]


@pytest.mark.parametrize(("environ", "overrides", "message"), OUTSIDE_THE_FILE)
def test_errors_from_outside_the_file_name_their_origin(
    environ: dict[str, str], overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(OPTICO, {**ENV, **environ}, overrides)
    assert str(caught.value) == message


def test_error_names_the_source_and_keeps_its_parts() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("[server]\nlisten = 1\n", source="/etc/dni/config.toml")
    assert caught.value.source == "/etc/dni/config.toml"
    assert caught.value.key == "server.listen"
    assert str(caught.value).startswith("/etc/dni/config.toml: server.listen: expected HOST:PORT")


def test_a_secret_file_needs_a_reader() -> None:
    text = '[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key_file = "key.txt"\n'
    with pytest.raises(ConfigError) as caught:
        load_config(text)
    assert str(caught.value) == (
        "config.toml: providers.optico.api_key_file: secret files are read only when loading a "
        "config file"
    )


# --- precedence: flag > environment > file > default -----------------------------------

LISTEN_LAYERS = [
    pytest.param("", {}, {}, ("127.0.0.1", 8080), id="default"),
    pytest.param("[server]\nlisten = '0.0.0.0:81'\n", {}, {}, ("0.0.0.0", 81), id="file"),
    pytest.param(
        "[server]\nlisten = '0.0.0.0:81'\n",
        {"DNI_LISTEN": "127.0.0.2:82"},
        {},
        ("127.0.0.2", 82),
        id="env-over-file",
    ),
    pytest.param(
        "[server]\nlisten = '0.0.0.0:81'\n",
        {"DNI_LISTEN": "127.0.0.2:82"},
        {"server.listen": "[::1]:83"},
        ("::1", 83),
        id="flag-over-env",
    ),
    pytest.param(
        "[server]\nlisten = '0.0.0.0:81'\n",
        {"DNI_LISTEN": ""},
        {},
        ("0.0.0.0", 81),
        id="empty-env-is-unset",
    ),
]


@pytest.mark.parametrize(("text", "environ", "overrides", "expected"), LISTEN_LAYERS)
def test_listen_precedence(
    text: str, environ: dict[str, str], overrides: dict[str, str], expected: tuple[str, int]
) -> None:
    server = load(text, environ, overrides).server
    assert (server.listen_host, server.listen_port) == expected


def test_environment_values_are_parsed_as_their_keys_type() -> None:
    environ = {
        "DNI_UPSTREAM": "http://10.0.0.5:8000/",
        "DNI_LOG_LEVEL": "DEBUG",
        "DNI_SERVER_PUBLIC_SCHEME": "https",
        "DNI_SERVER_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
        "DNI_SERVER_PRESERVE_HOST": "false",
        "DNI_SERVER_MAX_CONNECTIONS": "64",
        "DNI_PROVIDERS_OPTICO_URL": "https://www.optico.fr",
        "DNI_PROVIDERS_OPTICO_TIMEOUT": "800ms",
        **ENV,
    }
    config = load(OPTICO, environ)
    server, optico = config.server, config.providers["optico"]
    assert server.upstream == "http://10.0.0.5:8000"
    assert server.log_level == "debug"
    assert server.public_scheme == "https"
    assert server.trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32")
    assert server.preserve_host is False
    assert server.max_connections == 64
    assert (optico.url, optico.timeout) == ("https://www.optico.fr", 0.8)


def test_flags_beat_the_environment_for_providers_too() -> None:
    environ = {"DNI_PROVIDERS_OPTICO_URL": "http://env", **ENV}
    config = load(OPTICO, environ, {"providers.optico.url": "http://flag"})
    assert config.providers["optico"].url == "http://flag"


def test_a_string_in_the_file_is_not_an_integer_but_in_the_environment_it_is() -> None:
    assert "expected an integer" in error("[server]\nmax_connections = '64'\n")
    assert load("", {"DNI_SERVER_MAX_CONNECTIONS": "64"}).server.max_connections == 64


# --- secrets -----------------------------------------------------------------------------

SECRET_SOURCES = [
    pytest.param('api_key_env = "KEY"', {"KEY": SENTINEL}, "env KEY", id="env"),
    pytest.param('api_key_file = "key.txt"', {}, "file key.txt", id="file-stripped"),
    pytest.param(
        'api_key_env = "KEY"\napi_key_file = "key.txt"',
        {"KEY": SENTINEL},
        "env KEY",
        id="env-wins-over-file",
    ),
    pytest.param(
        'api_key_env = "KEY"\napi_key_file = "key.txt"',
        {},
        "file key.txt",
        id="file-when-env-unset",
    ),
]


@pytest.mark.parametrize(("keys", "environ", "origin"), SECRET_SOURCES)
def test_provider_secret_sources(keys: str, environ: dict[str, str], origin: str) -> None:
    text = f'[providers.optico]\nkind = "optico"\nurl = "http://a"\n{keys}\n'
    provider = load(text, environ).providers["optico"]
    assert (provider.api_key, provider.api_key_origin) == (SENTINEL, origin)


def test_freespee_secret_is_the_providers_api_key() -> None:
    provider = load(FREESPEE).providers["fs"]
    assert (provider.kind, provider.api_key, provider.adv_id) == ("freespee", SENTINEL, "demo")


def test_token_secret_may_be_absent_or_come_from_env_or_file() -> None:
    assert load("").server.token_secret is None
    server = load("[server]\ntoken_secret_env = 'KEY'\n").server
    assert (server.token_secret, server.token_secret_origin) == (SENTINEL, "env KEY")
    server = load("[server]\ntoken_secret_file = 'key.txt'\n", {}).server
    assert (server.token_secret, server.token_secret_origin) == (SENTINEL, "file key.txt")


LEAKS = [
    pytest.param(
        f'[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key = "{SENTINEL}"\n',
        id="api-key-literal",
    ),
    pytest.param(f"[server]\ntoken_secret = '{SENTINEL}'\n", id="token-secret-literal"),
    pytest.param(
        f'[providers.o]\nkind = "optico"\nurl = "http://a"\napi_key_env = "{SENTINEL}"\n',
        id="secret-pasted-as-variable-name",
    ),
    pytest.param(FREESPEE + "timeout = 'x'\n", id="other-error-with-secret-loaded"),
    pytest.param(OPTICO + "[server]\ntoken_secret_env = 'KEY'\nlisten = 1\n", id="server-error"),
    pytest.param(
        OPTICO + "[[rules]]\nname = 'a'\npaths = ['*']\nphones = ['0']\n", id="rule-error"
    ),
]


@pytest.mark.parametrize("text", LEAKS)
def test_a_secret_never_appears_in_an_error(text: str) -> None:
    assert SENTINEL not in error(text)


def test_a_secret_never_appears_in_the_config_text() -> None:
    text = FREESPEE + OPTICO + "[server]\ntoken_secret_file = 'key.txt'\n"
    text += rule('phones = ["04 90 26 07 16"]\nprovider = "optico"\n', "")
    config = load(text)
    assert config.providers["optico"].api_key == config.server.token_secret == SENTINEL
    assert SENTINEL not in str(config)
    assert SENTINEL not in repr(config)


# --- rules ---------------------------------------------------------------------------------

PATHS = [
    pytest.param("*", "/", True, id="star-alone-matches-root"),
    pytest.param("*", "/a/b/c.html", True, id="star-alone-matches-everything"),
    pytest.param("/", "/", True, id="root-exact"),
    pytest.param("/", "/index.html", False, id="root-is-not-a-prefix"),
    pytest.param("/contact*", "/contact", True, id="star-empty"),
    pytest.param("/contact*", "/contact-us.html", True, id="star-within-segment"),
    pytest.param("/contact*", "/contact/form", False, id="star-stops-at-slash"),
    pytest.param("/contact*", "/about/contact", False, id="anchored-at-start"),
    pytest.param("/products/**", "/products", True, id="globstar-matches-folder"),
    pytest.param("/products/**", "/products/", True, id="globstar-folder-slash"),
    pytest.param("/products/**", "/products/a/b/c", True, id="globstar-deep"),
    pytest.param("/products/**", "/productsx", False, id="globstar-needs-slash"),
    pytest.param("/**", "/anything/at/all", True, id="globstar-root"),
    pytest.param("/a/**/z", "/a/b/c/z", True, id="globstar-middle"),
    pytest.param("/*/news", "/fr/news", True, id="star-segment-middle"),
    pytest.param("/*/news", "/fr/be/news", False, id="star-one-segment-only"),
    pytest.param("/page.html", "/pageXhtml", False, id="dot-is-literal"),
    pytest.param("/a?b", "/a?b", False, id="question-mark-literal-query-ignored"),
    pytest.param("/legal", "/legal?lang=fr", True, id="query-string-ignored"),
    pytest.param("/Legal", "/legal", False, id="case-sensitive"),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATHS)
def test_path_patterns(pattern: str, path: str, expected: bool) -> None:
    rule = load(rule_with_paths(pattern)).rules[0]
    assert rule.matches(path) is expected


def rule_with_paths(*paths: str) -> str:
    listed = ", ".join(f'"{p}"' for p in paths)
    return OPTICO + f'[[rules]]\nname = "r"\npaths = [{listed}]\nphones = ["0490260716"]\n'


def test_a_rule_built_in_code_matches_too() -> None:
    built = Rule("r", ("/a", "/b/**"), "optico", "direct", (), Matcher(()))
    assert [built.matches(p) for p in ("/a", "/b/c", "/c")] == [True, True, False]
    assert compile_paths(()).fullmatch("/") is None


def test_rule_for_takes_the_first_matching_rule() -> None:
    text = OPTICO
    for name, path in (("contact", "/contact*"), ("everything", "*"), ("never", "/contact")):
        text += f'[[rules]]\nname = "{name}"\npaths = ["{path}"]\nphones = ["0490260716"]\n'
    config = load(text)
    assert config.rule_for("/contact").name == "contact"  # type: ignore[union-attr]
    assert config.rule_for("/other").name == "everything"  # type: ignore[union-attr]
    assert load(rule_with_paths("/only")).rule_for("/other") is None


def test_phones_keep_their_written_form_and_types() -> None:
    text = rule(
        'type = 5\nphones = ["04 90 26 07 16", '
        '{ number = "+33 4 50 98 27 56", type = 6, client_data = "ref=42" }]\n'
    )
    site = load(text).rules[0]
    assert [(p.phone.e164, p.written, p.type, p.client_data) for p in site.phones] == [
        ("+33490260716", "04 90 26 07 16", 5, None),
        ("+33450982756", "+33 4 50 98 27 56", 6, "ref=42"),
    ]
    assert site.matcher.phones == tuple(p.phone for p in site.phones)
    assert site.phone_rule("+33450982756") is site.phones[1]
    assert (site.provider, site.display, site.type, site.expiration) == ("optico", "direct", 5, -1)


def test_region_reads_national_numbers() -> None:
    text = "[rewrite]\nregion = 'us'\n" + phones('"(617) 495-6890"')
    config = load(text)
    assert config.rewrite.region == "US"
    assert config.rules[0].phones[0].phone.e164 == "+16174956890"


def test_freespee_parameters() -> None:
    text = rule(
        'phones = ["04 90 26 07 16"]\nparameters = { custnr = "42", src = { query = "utm_source" },'
        ' uid = { cookie = "uid" }, lang = { header = "Accept-Language" }, '
        'custname = { value = "ACME" } }\n',
        FREESPEE,
    )
    parameters = load(text).rules[0].parameters
    assert [(p.name, p.value, p.query, p.cookie, p.header) for p in parameters] == [
        ("custnr", "42", None, None, None),
        ("src", None, "utm_source", None, None),
        ("uid", None, None, "uid", None),
        ("lang", None, None, None, "Accept-Language"),
        ("custname", "ACME", None, None, None),
    ]


VALUES = [
    pytest.param("rewrite_max_bytes = 1000", "rewrite_max_bytes", 1000, id="size-int"),
    pytest.param("rewrite_max_bytes = '512KiB'", "rewrite_max_bytes", 524288, id="size-kib"),
    pytest.param("rewrite_max_bytes = '4MB'", "rewrite_max_bytes", 4_000_000, id="size-mb"),
    pytest.param("rewrite_max_bytes = '1.5 mib'", "rewrite_max_bytes", 1572864, id="size-case"),
    pytest.param("upstream_timeout = 2", "upstream_timeout", 2.0, id="duration-int"),
    pytest.param("upstream_timeout = 0.25", "upstream_timeout", 0.25, id="duration-float"),
    pytest.param("upstream_timeout = '1500ms'", "upstream_timeout", 1.5, id="duration-ms"),
    pytest.param("upstream_timeout = '2m'", "upstream_timeout", 120.0, id="duration-minutes"),
    pytest.param("token_ttl = '1h'", "token_ttl", 3600, id="ttl-hours"),
    pytest.param("shutdown_grace = 0", "shutdown_grace", 0.0, id="grace-zero"),
    pytest.param("prefix = '/_t/'", "prefix", "/_t", id="prefix-trailing-slash"),
    pytest.param("trusted_proxies = ['10.1.2.3/8']", "trusted_proxies", ("10.0.0.0/8",), id="cidr"),
]


@pytest.mark.parametrize(("line", "name", "expected"), VALUES)
def test_server_values(line: str, name: str, expected: object) -> None:
    assert getattr(load(f"[server]\n{line}\n").server, name) == expected


def test_an_empty_file_is_a_pass_through_proxy() -> None:
    config = load("")
    assert (config.providers, config.rules, config.sandbox) == ({}, (), {})
    assert config.rewrite.code_template == " (code {code})"


def test_the_sandbox_table_is_passed_through_as_is() -> None:
    config = load("[sandbox]\nseed = 7\n[[sandbox.domains]]\napi_key = 'osp_test_x'\n")
    assert config.sandbox == {"seed": 7, "domains": [{"api_key": "osp_test_x"}]}


# --- the file: config_io and the repository's config.toml --------------------------------


def test_the_repository_config_loads_as_the_demo_needs() -> None:
    config = load_config_file(REPO / "config.toml", environ={})
    server, optico = config.server, config.providers["optico"]
    assert (server.listen_host, server.listen_port, server.upstream) == (
        "127.0.0.1",
        8080,
        "http://127.0.0.1:8000",
    )
    assert (optico.kind, optico.url, optico.api_key) == (
        "optico",
        "http://127.0.0.1:8090",
        "osp_test_demo_key",
    )
    assert optico.api_key_origin == "file sandbox/demo.key"
    assert [(r.name, r.display) for r in config.rules] == [
        ("contact", "click"),
        ("legacy", "direct"),
        ("site", "direct"),
    ]
    assert [p.phone.e164 for p in config.rules[2].phones] == [
        "+33490260716",
        "+33450982756",
        "+33185083737",
    ]
    assert config.rules[2].phones[1].type == 6
    routes = {path: config.rule_for(path) for path in ("/contact", "/legacy/old.php", "/")}
    assert {path: r.name for path, r in routes.items() if r} == {
        "/contact": "contact",
        "/legacy/old.php": "legacy",
        "/": "site",
    }


def test_the_repository_config_takes_the_key_from_the_environment_first() -> None:
    environ = {"DNI_OPTICO_API_KEY": SENTINEL}
    optico = load_config_file(REPO / "config.toml", environ=environ).providers["optico"]
    assert (optico.api_key, optico.api_key_origin) == (SENTINEL, "env DNI_OPTICO_API_KEY")


def test_secret_files_are_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "optico.key").write_text(f"{SENTINEL}\n")
    text = OPTICO.replace('api_key_env = "KEY"', 'api_key_file = "secrets/optico.key"')
    (tmp_path / "dni.toml").write_text(text)
    config = load_config_file(tmp_path / "dni.toml", environ={})
    assert config.providers["optico"].api_key == SENTINEL
    assert config.source == str(tmp_path / "dni.toml")


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as caught:
        load_config_file(path, environ={})
    assert str(caught.value) == (
        f"{path}: cannot read the config file (No such file or directory); "
        "pass --config FILE or set DNI_CONFIG"
    )


def test_a_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[server]\nlisten = "127.0.0.1:8080"\nupstream = http://x\n')
    with pytest.raises(ConfigError) as caught:
        load_config_file(path, environ={})
    assert str(caught.value) == f"{path}: not valid TOML: Invalid value (at line 3, column 12)"


def test_an_unreadable_secret_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "key.bin").write_bytes(b"\xff\xfe")
    text = OPTICO.replace('api_key_env = "KEY"', 'api_key_file = "key.bin"')
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config_file(tmp_path / "c.toml", environ={})
    assert str(caught.value) == (
        f'{tmp_path / "c.toml"}: providers.optico.api_key_file: cannot read "key.bin" '
        "(not UTF-8 text in key.bin); fix the path (relative to the config)"
    )


CONFIG_PATHS = [
    pytest.param("a.toml", {"DNI_CONFIG": "b.toml"}, "a.toml", id="flag"),
    pytest.param(None, {"DNI_CONFIG": "b.toml"}, "b.toml", id="env"),
    pytest.param(None, {}, "config.toml", id="default"),
]


@pytest.mark.parametrize(("flag", "environ", "expected"), CONFIG_PATHS)
def test_config_path(flag: str | None, environ: dict[str, str], expected: str) -> None:
    assert config_path(flag, environ) == expected
