"""Builders for the rewriting tests: phones, matchers, pages and the DOM oracle.

Tests speak in written forms ("04 90 26 07 16" -> "08 99 12 34 56"); these
builders turn them into the core's values so each test reads as its table row.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from rules import Matcher, Page, Phone, Tracking, parse_phone, scan

# The reference pair of the issue: a configured Avignon number and its tracking number.
ORIGINAL = "04 90 26 07 16"
TRACKING = "08 99 12 34 56"
REVEAL_SRC = "/__dni/reveal.js"
DEFAULT_LABEL = "Afficher le numéro"

# Elements whose text a visitor never sees as page text (or that we never rewrite).
HIDDEN_TEXT_PARENTS = frozenset({"script", "style", "textarea", "title", "template"})


def phone(text: str, region: str = "FR") -> Phone:
    return parse_phone(text, region)


def matcher(*texts: str, region: str = "FR") -> Matcher:
    return Matcher(phone(text, region) for text in texts)


def html_page(body: str, *, head: str = "", title: str = "Test") -> str:
    """A small complete document around a body fragment."""
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{title}</title>{head}</head>\n<body>{body}</body></html>\n"
    )


def as_bytes(html: str | bytes, encoding: str = "utf-8") -> bytes:
    return html if isinstance(html, bytes) else html.encode(encoding)


def scan_html(
    html: str | bytes,
    *phones: str,
    region: str = "FR",
    charset: str | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> Page:
    return scan(
        as_bytes(html),
        matcher(*phones, region=region),
        charset=charset,
        include=include,
        exclude=exclude,
    )


def assignments(
    pairs: Mapping[str, str], *, region: str = "FR", codes: Mapping[str, str] | None = None
) -> dict[str, Tracking]:
    """{original written: tracking written} -> {original e164: Tracking}."""
    codes = codes or {}
    result: dict[str, Tracking] = {}
    for original, tracking in pairs.items():
        code = codes.get(original)
        result[phone(original, region).e164] = Tracking(phone(tracking, region).e164, code)
    return result


def rewrite(
    html: str | bytes,
    pairs: Mapping[str, str],
    *,
    region: str = "FR",
    codes: Mapping[str, str] | None = None,
    charset: str | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    code_template: str | None = None,
) -> bytes:
    """Scan with the originals configured and render with their tracking numbers."""
    page = scan_html(html, *pairs, region=region, charset=charset, include=include, exclude=exclude)
    mapping = assignments(pairs, region=region, codes=codes)
    if code_template is None:
        return page.render(mapping)
    return page.render(mapping, code_template=code_template)


def click(
    html: str | bytes,
    tokens: Mapping[str, str],
    *,
    region: str = "FR",
    label: str | None = None,
    charset: str | None = None,
) -> bytes:
    """Scan with the originals configured and render the click display with their tokens."""
    page = scan_html(html, *tokens, region=region, charset=charset)
    by_e164 = {phone(original, region).e164: token for original, token in tokens.items()}
    if label is None:
        return page.render_click(by_e164, script_src=REVEAL_SRC)
    return page.render_click(by_e164, script_src=REVEAL_SRC, label=label)


def button(token: str, label: str = DEFAULT_LABEL) -> str:
    return f'<button type="button" class="dni-reveal" data-dni-token="{token}">{label}</button>'


def reveal_script(src: str = REVEAL_SRC) -> str:
    return f'<script src="{src}" defer></script>'


def text_nodes(body: bytes, charset: str = "utf-8") -> list[tuple[bool, str]]:
    """(hidden, text) for every text node of selectolax's DOM, in document order (the oracle).

    Hidden: under script, style, textarea, title or template, where nothing is rewritten.
    """
    root = LexborHTMLParser(body.decode(charset, errors="replace")).root
    if root is None:
        return []
    return [
        (_has_hidden_ancestor(node), node.text_content or "")
        for node in root.traverse(include_text=True)
        if node.tag == "-text"
    ]


def visible_text_nodes(body: bytes, charset: str = "utf-8") -> list[str]:
    return [text for hidden, text in text_nodes(body, charset) if not hidden]


def _has_hidden_ancestor(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in HIDDEN_TEXT_PARENTS:
            return True
        parent = parent.parent
    return False


@dataclass(frozen=True)
class PhoneCase:
    """One configured phone of a golden case."""

    original: str
    tracking: str | None = None
    code: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class GoldenCase:
    """A folder of tests/golden: input.html, expected.html and case.toml."""

    name: str
    description: str
    input: bytes
    expected: bytes
    phones: tuple[PhoneCase, ...]
    region: str = "FR"
    mode: str = "direct"
    charset: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    code_template: str | None = None
    label: str | None = None
    script_src: str = REVEAL_SRC
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def matcher(self) -> Matcher:
        return Matcher(phone(p.original, self.region) for p in self.phones)

    def scan(self) -> Page:
        return scan(
            self.input,
            self.matcher(),
            charset=self.charset,
            include=self.include,
            exclude=self.exclude,
        )

    def render(self, page: Page) -> bytes:
        if self.mode == "click":
            return self._render_click(page)
        mapping = {
            phone(p.original, self.region).e164: Tracking(
                phone(p.tracking, self.region).e164, p.code
            )
            for p in self.phones
            if p.tracking is not None
        }
        if self.code_template is None:
            return page.render(mapping)
        return page.render(mapping, code_template=self.code_template)

    def _render_click(self, page: Page) -> bytes:
        tokens = {
            phone(p.original, self.region).e164: p.token for p in self.phones if p.token is not None
        }
        if self.label is None:
            return page.render_click(tokens, script_src=self.script_src)
        return page.render_click(tokens, script_src=self.script_src, label=self.label)


def load_golden(folder: Path) -> GoldenCase:
    case = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    return GoldenCase(
        name=folder.name,
        description=case["description"],
        input=(folder / "input.html").read_bytes(),
        expected=(folder / "expected.html").read_bytes(),
        phones=tuple(PhoneCase(**entry) for entry in case["phones"]),
        region=case.get("region", "FR"),
        mode=case.get("mode", "direct"),
        charset=case.get("charset"),
        include=tuple(case.get("include", ())),
        exclude=tuple(case.get("exclude", ())),
        code_template=case.get("code_template"),
        label=case.get("label"),
        script_src=case.get("script_src", REVEAL_SRC),
        counts=case.get("counts", {}),
    )


def golden_folders(root: Path) -> Iterable[Path]:
    return sorted(path for path in root.iterdir() if (path / "case.toml").is_file())
