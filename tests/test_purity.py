"""rules/ stays pure: no I/O, network, clock, randomness or environment, checked on its source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[1] / "rules"

# Top-level packages (and dotted modules) that bring I/O, concurrency, clocks or randomness.
FORBIDDEN_MODULES = frozenset(
    {
        "aiohttp",
        "asyncio",
        "uvloop",
        "cachetools",
        "socket",
        "ssl",
        "selectors",
        "http",
        "urllib.request",
        "os",
        "shutil",
        "tempfile",
        "pathlib",
        "subprocess",
        "multiprocessing",
        "threading",
        "concurrent",
        "time",
        "datetime",
        "random",
        "secrets",
        "uuid",
        "logging.handlers",
    }
)
FORBIDDEN_CALLS = frozenset({"open", "input", "print", "__import__"})
# The environment and the standard streams, reached through their modules; an `environ`
# mapping passed in as an argument is how the core is meant to see the environment.
FORBIDDEN_ATTRIBUTES = frozenset(
    {("os", "environ"), ("os", "getenv"), ("sys", "stdin"), ("sys", "stdout"), ("sys", "stderr")}
)


def forbidden_module(name: str) -> bool:
    parts = name.split(".")
    return any(".".join(parts[:i]) in FORBIDDEN_MODULES for i in range(1, len(parts) + 1))


def violations(source: str, filename: str = "<source>") -> Iterator[str]:
    """Each forbidden import, call or attribute in a module's source, as `file:line: what`."""
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if forbidden_module(alias.name):
                    yield f"{where}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(forbidden_module(name) for name in names):
                yield f"{where}: from {node.module} import ..."
        elif isinstance(node, ast.Call) and _called_name(node) in FORBIDDEN_CALLS:
            yield f"{where}: {_called_name(node)}()"
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            yield f"{where}: import_module()"
        elif isinstance(node, ast.Attribute) and _qualified(node) in FORBIDDEN_ATTRIBUTES:
            yield f"{where}: {'.'.join(_qualified(node))}"


def _called_name(node: ast.Call) -> str | None:
    return node.func.id if isinstance(node.func, ast.Name) else None


def _qualified(node: ast.Attribute) -> tuple[str, str]:
    owner = node.value.id if isinstance(node.value, ast.Name) else ""
    return owner, node.attr


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def rules_modules() -> list[Path]:
    return sorted(RULES.rglob("*.py"))


def test_rules_has_modules() -> None:
    assert (RULES / "__init__.py").is_file()
    assert len(rules_modules()) > 1


@pytest.mark.parametrize("module", rules_modules(), ids=lambda path: path.name)
def test_rules_module_is_pure(module: Path) -> None:
    found = list(violations(module.read_text(encoding="utf-8"), module.name))
    assert found == []


IMPURE = [
    pytest.param("import asyncio", id="asyncio"),
    pytest.param("import aiohttp.web", id="aiohttp-submodule"),
    pytest.param("from os import environ", id="from-os"),
    pytest.param("import os.path", id="os-path"),
    pytest.param("from time import monotonic", id="clock"),
    pytest.param("import datetime as dt", id="datetime"),
    pytest.param("from random import choice", id="random"),
    pytest.param("from logging import handlers", id="logging-handlers"),
    pytest.param("import urllib.request", id="urllib-request"),
    pytest.param("from http import client", id="http"),
    pytest.param("from cachetools import TTLCache", id="cachetools"),
    pytest.param("import uvloop", id="uvloop"),
    pytest.param("import socket", id="socket"),
    pytest.param("import subprocess", id="subprocess"),
    pytest.param("data = open('config.toml').read()", id="open"),
    pytest.param("key = os.environ['KEY']", id="os-environ"),
    pytest.param("key = os.getenv('KEY')", id="os-getenv"),
    pytest.param("import sys\nsys.stdout.write('x')", id="stdout"),
    pytest.param("import importlib\nimportlib.import_module('socket')", id="dynamic-import"),
]


@pytest.mark.parametrize("source", IMPURE)
def test_checker_catches(source: str) -> None:
    assert list(violations(source)) != []


PURE = [
    pytest.param("import re\nimport html\nfrom urllib.parse import unquote", id="text-modules"),
    pytest.param("import phonenumbers\nfrom selectolax.lexbor import LexborHTMLParser", id="deps"),
    pytest.param("import tomllib\nconfig = tomllib.loads(text)", id="toml-from-text"),
    pytest.param("from rules.phones import Phone", id="own-package"),
    pytest.param("from . import phones", id="relative"),
    pytest.param("import logging\nlog = logging.getLogger(__name__)", id="plain-logging"),
    pytest.param("import codecs\ncodecs.lookup('utf-8')", id="codecs"),
    pytest.param("def load(text, environ):\n    return environ.get('KEY')", id="environ-passed-in"),
]


@pytest.mark.parametrize("source", PURE)
def test_checker_allows(source: str) -> None:
    assert list(violations(source)) == []
