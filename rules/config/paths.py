"""Path patterns (`paths = ["/contact*", "/products/**"]`) compiled to one regex."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rules.config.tables import _Bad


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


def _path(text: str) -> str:
    _path_regex(text)
    return text
