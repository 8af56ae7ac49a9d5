"""Reading TOML tables: key paths, typed reads, unknown keys, and the internal errors.

`_Bad` is a value's problem before its key path is known; `_Table.read` turns it into
`_Invalid` at that key path, which `load_config` turns into the public ConfigError.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar, cast

T = TypeVar("T")
Convert = Callable[[object], Any]
_MISSING = object()
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
