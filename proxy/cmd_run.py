"""`dni-edge run` (serve) and `dni-edge healthcheck` (exit 0 or 1, for container health checks)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.error
import urllib.request

from proxy.config_io import add_config_argument, config_path, load_config_file
from rules.config import Config, ConfigError

HEALTHCHECK_TIMEOUT = 3.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="serve: the proxy in front of the upstream site")
    add_config_argument(run)
    run.add_argument("--listen", metavar="HOST:PORT", help="address to listen on")
    run.add_argument("--upstream", metavar="URL", help="the site behind the proxy")
    run.set_defaults(func=run_command)

    health = subparsers.add_parser("healthcheck", help="exit 0 if the proxy answers, else 1")
    add_config_argument(health)
    health.add_argument("--url", help="liveness URL (default: from the config's listen address)")
    health.set_defaults(func=healthcheck_command)


def _load(args: argparse.Namespace) -> Config:
    overrides = {
        key: value
        for key, value in (
            ("server.listen", getattr(args, "listen", None)),
            ("server.upstream", getattr(args, "upstream", None)),
        )
        if value
    }
    return load_config_file(config_path(args.config), overrides=overrides)


def run_command(args: argparse.Namespace) -> int:
    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"dni-edge run: {exc}", file=sys.stderr)
        return 2
    from proxy import logs, memory, server

    try:
        server.require_c_parser()
    except server.ParserUnavailable as exc:
        print(f"dni-edge run: {exc}", file=sys.stderr)
        return 1
    logs.configure(config.server.log_level, secrets=_secrets(config))
    memory.tune_malloc()
    import uvloop

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(server.serve(config))
    except ConfigError as exc:  # checks that need the running loop (provider setup)
        print(f"dni-edge run: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        listen = f"{config.server.listen_host}:{config.server.listen_port}"
        print(f"dni-edge run: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _secrets(config: Config) -> list[str]:
    """Every value the logs must never show."""
    values = [provider.api_key for provider in config.providers.values()]
    return [*values, config.server.token_secret or ""]


def healthcheck_url(config: Config) -> str:
    host = config.server.listen_host
    host = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.server.listen_port}{config.server.prefix.rstrip('/')}/healthz"


def healthcheck_command(args: argparse.Namespace) -> int:
    url = args.url
    if url is None:
        try:
            url = healthcheck_url(_load(args))
        except ConfigError as exc:
            print(f"dni-edge healthcheck: {exc}", file=sys.stderr)
            return 1
    try:
        with urllib.request.urlopen(url, timeout=HEALTHCHECK_TIMEOUT) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"dni-edge healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if healthy else 1
