"""The pure core of dni-edge: config model, phone matching, HTML scanning and rendering.

No I/O: bytes, strings and frozen config in, values out. `proxy/` uses only the
names exported here.
"""

from rules.config import (
    Config,
    ConfigError,
    Parameter,
    PhoneRule,
    ProviderConfig,
    RewriteConfig,
    Rule,
    ServerConfig,
    load_config,
)
from rules.phones import DEFAULT_REGION, Phone, PhoneError, parse_phone
from rules.render import write_like
from rules.scan import Matcher, Occurrence, Page, Tracking, page_title, scan

__all__ = [
    "DEFAULT_REGION",
    "Config",
    "ConfigError",
    "Matcher",
    "Occurrence",
    "Page",
    "Parameter",
    "Phone",
    "PhoneError",
    "PhoneRule",
    "ProviderConfig",
    "RewriteConfig",
    "Rule",
    "ServerConfig",
    "Tracking",
    "load_config",
    "page_title",
    "parse_phone",
    "scan",
    "write_like",
]
