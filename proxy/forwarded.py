"""Who the client is and which URL it asked for; forwarded headers believed from trusted peers only.

The client address is the socket peer unless the peer is a configured trusted
proxy (none by default); then it is the rightmost untrusted address of
X-Forwarded-For, the leftmost entries being whatever the client typed. Towards
the upstream the proxy rewrites X-Forwarded-For: the client address alone from
an untrusted peer, the trusted chain plus the peer otherwise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from aiohttp import web

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES: frozenset[str] = frozenset({"http", "https"})

CLIENT_IP = web.RequestKey("dni_client_ip", str)
"""The client address of a request (set for every request, the click endpoint included)."""


@dataclass(frozen=True)
class Origin:
    """What the proxy writes as X-Forwarded-* and uses as the visitor's address and public URL."""

    client_ip: str
    forwarded_for: str
    scheme: str
    host: str


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (already validated by the config loader)."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def parse_address(text: str) -> Address | None:
    """An IP from an X-Forwarded-For entry (`1.2.3.4`, `[2001:db8::1]`, `1.2.3.4:80`), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def _chain(values: Iterable[str]) -> list[str]:
    """Every X-Forwarded-For line folded into one list of entries."""
    return [entry.strip() for value in values for entry in value.split(",") if entry.strip()]


def client_address(peer: str, xff_values: Sequence[str], trusted: Sequence[Network]) -> str:
    """The rightmost address not in `trusted`, walking X-Forwarded-For from the peer leftwards."""
    candidate = parse_address(peer)
    if not _trusted(candidate, trusted):
        return str(candidate) if candidate is not None else peer
    for entry in reversed(_chain(xff_values)):
        address = parse_address(entry)
        if address is None:
            break
        candidate = address
        if not _trusted(address, trusted):
            break
    return str(candidate)


def resolve_origin(
    *,
    peer: str,
    xff_values: Sequence[str],
    forwarded_proto: str | None,
    forwarded_host: str | None,
    host: str,
    transport_scheme: str,
    trusted: Sequence[Network],
    public_scheme: str | None,
) -> Origin:
    """The client address, the X-Forwarded-For to send, and the public scheme and host."""
    if not trusted:  # the usual case, and every request pays for this function
        return Origin(peer, peer, public_scheme or transport_scheme, host)
    peer_trusted = _trusted(parse_address(peer), trusted)
    client_ip = client_address(peer, xff_values, trusted)
    if peer_trusted:
        chain = ", ".join([*_chain(xff_values), peer])
        proto = (forwarded_proto or "").split(",")[0].strip().lower()
        scheme = proto if proto in SCHEMES else transport_scheme
        public_host = (forwarded_host or "").split(",")[0].strip() or host
    else:
        chain, scheme, public_host = client_ip, transport_scheme, host
    return Origin(
        client_ip=client_ip,
        forwarded_for=chain,
        scheme=public_scheme or scheme,
        host=public_host,
    )
