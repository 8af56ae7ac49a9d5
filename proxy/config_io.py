"""Reading the config file: the one place that opens it, its secret files and `os.environ`.

`rules.config.load_config` does the checking on text and mappings; this module feeds
it what only the shell may touch. Every failure is a `ConfigError` naming the file.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from rules.config import Config, ConfigError, load_config

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "DNI_CONFIG"
_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """`--config FILE`, shared by the sub-commands that load the config."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"config file (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG})",
    )


def config_path(flag: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The config file to read: the flag, else $DNI_CONFIG, else config.toml."""
    environ = os.environ if environ is None else environ
    return flag or environ.get(CONFIG_ENV) or DEFAULT_CONFIG


def load_config_file(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] = _NO_OVERRIDES,
) -> Config:
    """Read, parse and check the config file; raise ConfigError naming the file."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        fix = f"pass --config FILE or set {CONFIG_ENV}"
        raise ConfigError(source, "", f"cannot read the config file ({reason}); {fix}") from None
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
        raise ConfigError(source, "", f"not UTF-8 text at {where}; save it as UTF-8") from None
    return load_config(
        text,
        source=source,
        environ=os.environ if environ is None else environ,
        overrides=overrides,
        read_secret=secret_reader(Path(path).parent),
    )


def secret_reader(base: Path) -> Callable[[str], str]:
    """Reads a secret file, relative paths from `base` (the config file's folder)."""

    def read(name: str) -> str:
        try:
            return (base / Path(name).expanduser()).read_bytes().decode("utf-8").strip()
        except UnicodeDecodeError:
            raise OSError(f"not UTF-8 text in {name}") from None

    return read
