"""The proxy's pure helpers: content codings, client addresses, header and cookie tables."""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import logging
import platform
import re
import zlib
from collections.abc import Iterator

import brotli
import pytest
import zstandard
from multidict import CIMultiDict

from proxy import codec, logs, memory
from proxy.cookies import is_safe, set_cookie, visitor_key
from proxy.forwarded import client_address, parse_networks, resolve_origin
from proxy.headers import add_vary, make_private

PAGE = b"<html><body>" + b"<p>04 90 26 07 16</p>" * 2000 + b"</body></html>"

ENCODED = [
    pytest.param("identity", PAGE, id="identity"),
    pytest.param("gzip", gzip.compress(PAGE), id="gzip"),
    pytest.param("deflate", zlib.compress(PAGE), id="deflate-zlib"),
    pytest.param("deflate", zlib.compress(PAGE)[2:-4], id="deflate-raw"),
    pytest.param("br", brotli.compress(PAGE), id="br"),
    pytest.param("zstd", zstandard.ZstdCompressor().compress(PAGE), id="zstd"),
]


@pytest.mark.parametrize(("coding", "data"), ENCODED)
def test_decode_round_trips(coding: str, data: bytes) -> None:
    assert codec.decode(data, coding, 10 * len(PAGE)) == PAGE


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_encode_then_decode(coding: str) -> None:
    assert codec.decode(codec.encode(PAGE, coding), coding, len(PAGE)) == PAGE


@pytest.mark.parametrize(("coding", "data"), ENCODED)
def test_decode_stops_at_the_cap(coding: str, data: bytes) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(data, coding, len(PAGE) - 1)


def test_a_decompression_bomb_costs_at_most_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    with pytest.raises(codec.TooLarge):
        codec.decode(bomb, "gzip", 1_000_000)


@pytest.mark.parametrize(
    ("coding", "data"),
    [
        pytest.param("gzip", gzip.compress(PAGE)[:-20], id="truncated-gzip"),
        pytest.param("gzip", b"not gzip at all", id="garbage-gzip"),
        pytest.param("br", brotli.compress(PAGE)[:-5], id="truncated-br"),
        pytest.param("zstd", b"\x28\xb5\x2f\xfdgarbage", id="garbage-zstd"),
        pytest.param("compress", b"x", id="unknown-coding"),
    ],
)
def test_broken_bodies_raise_codec_error(coding: str, data: bytes) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(data, coding, 10 * len(PAGE))


def test_stacked_codings_are_refused() -> None:
    with pytest.raises(codec.CodecError):
        codec.coding_of("gzip, br")
    assert codec.coding_of("") == "identity"
    assert codec.coding_of("X-Gzip") == "gzip"


@pytest.mark.parametrize(
    ("accept", "upstream", "chosen"),
    [
        pytest.param("gzip, deflate, br, zstd", "gzip", "gzip", id="upstream-accepted"),
        pytest.param("gzip, br", "identity", "identity", id="identity-stays"),
        pytest.param("gzip", "br", "gzip", id="client-lacks-upstream-coding"),
        pytest.param("", "br", "identity", id="nothing-accepted"),
        pytest.param("br;q=0, gzip", "br", "gzip", id="q-zero-refuses"),
        pytest.param("*", "zstd", "zstd", id="wildcard"),
    ],
)
def test_choose_coding(accept: str, upstream: str, chosen: str) -> None:
    assert codec.choose(accept, upstream) == chosen


TRUSTED = parse_networks(["127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"])

CLIENTS = [
    pytest.param("203.0.113.9", ["1.2.3.4"], (), "203.0.113.9", id="untrusted-peer-ignores-xff"),
    pytest.param("127.0.0.1", [], TRUSTED, "127.0.0.1", id="trusted-peer-no-xff"),
    pytest.param("127.0.0.1", ["1.2.3.4"], TRUSTED, "1.2.3.4", id="one-hop"),
    pytest.param("127.0.0.1", ["6.6.6.6, 1.2.3.4"], TRUSTED, "1.2.3.4", id="spoofed-leftmost"),
    pytest.param("127.0.0.1", ["6.6.6.6", "1.2.3.4, 10.0.0.2"], TRUSTED, "1.2.3.4", id="lines"),
    pytest.param("127.0.0.1", ["abc"], TRUSTED, "127.0.0.1", id="garbage"),
    pytest.param("127.0.0.1", ["1.2.3.4, abc"], TRUSTED, "127.0.0.1", id="garbage-right"),
    pytest.param("127.0.0.1", ["[2001:db9::1]"], TRUSTED, "2001:db9::1", id="ipv6-brackets"),
    pytest.param("127.0.0.1", ["10.0.0.1, 10.0.0.2"], TRUSTED, "10.0.0.1", id="all-trusted"),
    pytest.param("127.0.0.1", ["1.2.3.4:5678"], TRUSTED, "1.2.3.4", id="with-port"),
]


@pytest.mark.parametrize(("peer", "xff", "trusted", "expected"), CLIENTS)
def test_client_address(
    peer: str,
    xff: list[str],
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
    expected: str,
) -> None:
    assert client_address(peer, xff, trusted) == expected


def test_public_scheme_and_host_from_trusted_peer_only() -> None:
    kwargs = dict(
        xff_values=["1.2.3.4"],
        forwarded_proto="https",
        forwarded_host="www.example.fr",
        host="internal:8080",
        transport_scheme="http",
        trusted=TRUSTED,
        public_scheme=None,
    )
    trusted = resolve_origin(peer="127.0.0.1", **kwargs)  # type: ignore[arg-type]
    assert (trusted.scheme, trusted.host, trusted.forwarded_for) == (
        "https",
        "www.example.fr",
        "1.2.3.4, 127.0.0.1",
    )
    untrusted = resolve_origin(peer="203.0.113.9", **kwargs)  # type: ignore[arg-type]
    assert (untrusted.scheme, untrusted.host, untrusted.forwarded_for) == (
        "http",
        "internal:8080",
        "203.0.113.9",
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param([], "private", id="none"),
        pytest.param(["public, max-age=600"], "private, max-age=600", id="public"),
        pytest.param(["max-age=60, s-maxage=600"], "private, max-age=60", id="s-maxage"),
        pytest.param(["no-store"], "no-store", id="no-store"),
        pytest.param(["private", "max-age=5"], "private, max-age=5", id="two-lines"),
    ],
)
def test_make_private(before: list[str], after: str) -> None:
    headers: CIMultiDict[str] = CIMultiDict(("Cache-Control", value) for value in before)
    make_private(headers)
    assert headers.getall("Cache-Control") == [after]


def test_add_vary_keeps_existing_values() -> None:
    headers: CIMultiDict[str] = CIMultiDict({"Vary": "Accept-Encoding"})
    add_vary(headers, "Cookie")
    add_vary(headers, "cookie")
    assert headers["Vary"] == "Accept-Encoding, Cookie"


def test_cookies() -> None:
    assert set_cookie("dni_id", "abc", secure=True) == (
        "dni_id=abc; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax; Secure"
    )
    assert "Secure" not in set_cookie("dni_id", "abc", secure=False)
    assert not is_safe("a", "x; Domain=evil")
    assert not is_safe("a b", "x")
    key, new = visitor_key({"dni_id": "0" * 32})
    assert (key, new) == ("0" * 32, False)
    key, new = visitor_key({"dni_id": "forged; x"})
    assert new and len(key) == 32


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_request_lines_are_json_with_secrets_redacted(restored_logging: None) -> None:
    stream = io.StringIO()
    logs.configure("info", secrets=["s3cret-key"], stream=stream)
    record = logs.RequestRecord("r1", "GET", "/a?k=s3cret-key", status=200, outcome="rewritten")
    logs.log_request(record)
    logs.log_event("breaker_open", provider="optico")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert {k: v for k, v in first.items() if k != "ts"} == {
        "level": "info",
        "logger": "dni_edge.access",
        "msg": "request",
        "request_id": "r1",
        "method": "GET",
        "path": "/a?k=[redacted]",
        "status": 200,
        "bytes": 0,
        "phones_found": 0,
        "phones_swapped": 0,
        "outcome": "rewritten",
    }
    assert second["msg"] == "breaker_open" and second["provider"] == "optico"


def test_request_lines_reach_every_handler_added_beside_ours(restored_logging: None) -> None:
    stream = io.StringIO()
    logs.configure("info", stream=stream)
    seen: list[logging.LogRecord] = []
    extra = logging.Handler()
    extra.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(extra)
    logs.log_request(logs.RequestRecord("r2", "GET", "/b"))
    assert '"request_id": "r2"' in stream.getvalue()
    assert [r.getMessage() for r in seen] == ["request"]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the malloc settings are glibc's")
def test_malloc_settings_apply_on_glibc() -> None:
    assert memory.tune_malloc()
    assert bytes(bytearray(b"x" * 2_000_000)) == b"x" * 2_000_000  # the heap still works
