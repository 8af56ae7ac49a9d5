"""`dni-edge rewrite`: run the rewriting core on one page, for users and scripts.

    dni-edge rewrite PAGE --phone ORIGINAL=TRACKING [--phone ...] [--code ORIGINAL=CODE]
                          [--region FR] [--charset NAME] [--click] [--report]

Writes the rewritten bytes to stdout unchanged (binary). With `--report` it prints
instead one JSON object: the page's title, its charset and, per configured phone
(keyed by E.164), how many times it is written in text and in tel: links.
Exit 0 on success, 2 with one line on stderr on bad arguments.
"""

from __future__ import annotations

import argparse
import codecs
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

import phonenumbers

from rules import Matcher, Page, Phone, PhoneError, Tracking, parse_phone, scan

PROG = "dni-edge rewrite"
REVEAL_SRC = "/__dni/reveal.js"
DIALLABLE_CODE = re.compile(r"[0-9*#]+")


class UsageError(Exception):
    """A bad argument, reported as one line and exit status 2."""


@dataclass(frozen=True)
class Request:
    """The validated arguments: what to scan and what to write in place of each phone."""

    body: bytes
    phones: tuple[Phone, ...]
    assignments: dict[str, Tracking]
    charset: str | None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rewrite",
        help="rewrite the phone numbers of one HTML page",
        description="Rewrite configured phone numbers in an HTML page, byte for byte.",
    )
    parser.add_argument("page", metavar="PAGE", help="HTML file to read, - for stdin")
    parser.add_argument(
        "--phone",
        action="append",
        required=True,
        metavar="ORIGINAL=TRACKING",
        help="a configured number and its tracking number, in any written form (repeatable)",
    )
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="ORIGINAL=CODE",
        help="a provider code to show after the tracking number of ORIGINAL (repeatable)",
    )
    parser.add_argument("--region", default="FR", help="region for national forms (default FR)")
    parser.add_argument(
        "--charset", metavar="NAME", help="the charset a Content-Type header would give"
    )
    parser.add_argument("--click", action="store_true", help="render the click display")
    parser.add_argument("--report", action="store_true", help="print a JSON report instead")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        request = _request(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    page = scan(request.body, Matcher(request.phones), charset=request.charset)
    if args.report:
        text = json.dumps(report(page, request.phones), ensure_ascii=False) + "\n"
        _write(text.encode("utf-8"))
    else:
        _write(_render(page, request, click=args.click))
    return 0


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def report(page: Page, phones: tuple[Phone, ...]) -> dict[str, Any]:
    """Title, charset and per-phone counts; configured phones absent from the page count 0."""
    counts = page.counts()
    return {
        "title": page.title,
        "charset": page.charset,
        "phones": {p.e164: counts.get(p.e164, {"text": 0, "tel": 0}) for p in phones},
    }


def demo_token(phone: Phone) -> str:
    """The placeholder token the click display carries outside the proxy."""
    return f"demo-{phone.e164}"


def _render(page: Page, request: Request, *, click: bool) -> bytes:
    if click:
        tokens = {p.e164: demo_token(p) for p in request.phones}
        return page.render_click(tokens, script_src=REVEAL_SRC)
    return page.render(request.assignments)


def _request(args: argparse.Namespace) -> Request:
    region = _region(args.region)
    pairs = [_pair(value, "--phone", "ORIGINAL=TRACKING") for value in args.phone]
    phones = {text: _phone(text, region, "--phone") for pair in pairs for text in pair}
    codes = _codes(args.code, region, {phones[original].e164 for original, _ in pairs})
    assignments = {
        phones[original].e164: Tracking(phones[tracking].e164, codes.get(phones[original].e164))
        for original, tracking in pairs
    }
    originals = tuple({phones[original].e164: phones[original] for original, _ in pairs}.values())
    return Request(_read(args.page), originals, assignments, _charset(args.charset))


def _region(region: str) -> str:
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(f"--region: unknown region {region!r} (a two-letter code such as FR)")
    return region.upper()


def _pair(value: str, option: str, shape: str) -> tuple[str, str]:
    left, sep, right = value.partition("=")
    if not sep or not left.strip() or not right.strip():
        raise UsageError(f"{option}: expected {shape}, got {value!r}")
    return left.strip(), right.strip()


def _phone(text: str, region: str, option: str) -> Phone:
    try:
        return parse_phone(text, region)
    except PhoneError as exc:
        raise UsageError(f"{option}: {exc}") from exc


def _codes(values: list[str], region: str, originals: set[str]) -> dict[str, str]:
    codes: dict[str, str] = {}
    for value in values:
        original, code = _pair(value, "--code", "ORIGINAL=CODE")
        e164 = _phone(original, region, "--code").e164
        if e164 not in originals:
            raise UsageError(f"--code: {original!r} is not an ORIGINAL given with --phone")
        if not DIALLABLE_CODE.fullmatch(code):
            raise UsageError(f"--code: {code!r} is not a code a phone can dial (digits, * or #)")
        codes[e164] = code
    return codes


def _charset(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise UsageError(f"--charset: unknown charset {name!r}") from exc
    return name


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as page:
            return page.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
