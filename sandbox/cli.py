"""`dni-edge sandbox`: run the local Optico and Freespee platform until Ctrl-C or SIGTERM.

Exit status: 0 after a clean stop, 2 for a settings or database error, 1 when
the address cannot be listened on.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import sys
import tomllib
from collections.abc import Mapping
from typing import Any

import uvloop
from aiohttp import web

from sandbox.app import build_app
from sandbox.freespee import FREESPEE_PATH
from sandbox.settings import SandboxConfigError, SandboxSettings, demo_settings, load_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
# A file, so visits and numbers survive a restart as they do at Optico; `:memory:` for none.
DEFAULT_DB = "dni-sandbox.db"
# Keys that mark a file as the sandbox's own rather than a dni-edge config.toml.
_OWN_FILE_KEYS = frozenset({"seed", "visit_timeout", "domains", "advertisers"})


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the local Optico / Freespee sandbox",
        description="A local platform answering Optico's Call Tracking API and Freespee's "
        "Dynamic Numbers API, with test controls under /sandbox/.",
    )
    add_arguments(parser)
    parser.set_defaults(func=main)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="a TOML file with a [sandbox] table, or of its own"
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=DEFAULT_DB,
        help=f"SQLite file or :memory: (default {DEFAULT_DB})",
    )
    parser.add_argument("--host", metavar="H", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument(
        "--port", metavar="P", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}"
    )


def main(args: argparse.Namespace) -> int:
    try:
        settings = read_settings(args.config)
        app = build_app(settings, db=args.db)
    except (SandboxConfigError, sqlite3.Error) as exc:
        print(f"dni-edge sandbox: {exc}", file=sys.stderr)
        return 2
    return uvloop.run(_serve(app, settings, args))


def read_settings(path: str | None) -> SandboxSettings:
    """Settings from a file's [sandbox] table (or the whole file if it is the sandbox's own)."""
    if path is None:
        return demo_settings()
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SandboxConfigError(f"{path}: {exc}") from None
    try:
        return load_settings(_table(data))
    except SandboxConfigError as exc:
        raise SandboxConfigError(f"{path}: {exc}") from None


def _table(data: Mapping[str, Any]) -> Mapping[str, Any]:
    table = data.get("sandbox")
    if isinstance(table, Mapping):
        return table
    if table is not None:
        raise SandboxConfigError("sandbox: expected a table")
    return data if set(data) & _OWN_FILE_KEYS else {}


async def _serve(app: web.Application, settings: SandboxSettings, args: argparse.Namespace) -> int:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, args.host, args.port).start()
    except OSError as exc:
        print(
            f"dni-edge sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        await runner.cleanup()
        return 1
    host, port = runner.addresses[0][:2]
    print(banner(f"http://{_host(host)}:{port}", settings, args.db), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    print("dni-edge sandbox: stopped", flush=True)
    return 0


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def banner(url: str, settings: SandboxSettings, db: str) -> str:
    lines = [f"dni-edge sandbox on {url}"]
    for domain in settings.domains:
        pools = ", ".join(
            f"{p.type_id}{' (shared, code)' if p.shared_code else ''}" for p in domain.pools
        )
        lines.append(
            f"  Optico API key: {domain.api_key}  (domain {domain.name}; pool types {pools})"
        )
    for advertiser in settings.advertisers:
        freespee = f"{url}{FREESPEE_PATH}"
        lines.append(
            f"  Freespee: {freespee}  advId {advertiser.adv_id}, secret {advertiser.secret}"
        )
    lines.append(f"  test controls: {url}/sandbox  database: {db}")
    return "\n".join(lines)
