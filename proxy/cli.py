"""The `dni-edge` command: one sub-command per module, each registering its own parser.

Every sub-command returns an exit status: 0 on success, 2 on bad input (a config
error, a bad argument), 1 on a failed health check.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> module exposing `register(subparsers)`; imported lazily so that
# `dni-edge check` does not pay for the server's imports.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("check", "proxy.cmd_check"),
    ("rewrite", "proxy.cmd_rewrite"),
    ("run", "proxy.cmd_run"),
    ("healthcheck", "proxy.cmd_run"),
    ("sandbox", "sandbox.cli"),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dni-edge", description="Server-side call tracking at the edge.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    registered: set[str] = set()
    for _name, module in COMMANDS:
        if module not in registered:
            importlib.import_module(module).register(subparsers)
            registered.add(module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
