"""Converters: a TOML (or _Text) value in, a checked value out, or _Bad.

Sizes, durations, listen addresses, CIDRs, URLs, names of secrets' variables,
selectors and bounded strings; each message says what was expected.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from rules.config.tables import Convert, _Bad, _describe, _Text
from rules.phones import is_valid_region

SIZE_UNITS: Mapping[str, int] = {
    **{"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9},
    **{"kib": 2**10, "mib": 2**20, "gib": 2**30},
}
DURATION_UNITS: Mapping[str, float] = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_QUANTITY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


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
    return _bytes(value, off=False)


def _size_or_off(value: object) -> int:
    """A size in bytes, or 0 to turn the feature off."""
    return _bytes(value, off=True)


def _bytes(value: object, *, off: bool) -> int:
    number = _quantity(value, SIZE_UNITS)
    least = 0 if off else 1
    if isinstance(number, bool) or not isinstance(number, int | float) or number < least:
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        example = 'like 4194304, "4MiB" or "512KiB"' + (", or 0 for off" if off else "")
        raise _Bad(f"expected a size in bytes {example}, got {shown}")
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
