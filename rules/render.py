"""Writing tracking numbers, or reveal elements, into a scanned page.

Every change is an edit (start, end, new bytes) at an occurrence; the page is
the original bytes spliced with those edits, so nothing outside an occurrence
can change. A tracking number with as many digits as the written original, in
the same form, replaces it digit for digit: separators, entities, tags and the
prefix style stay where they were. Otherwise the number is written as
phonenumbers groups it, with the occurrence's own separator.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from operator import itemgetter
from typing import TYPE_CHECKING, Literal

from rules.html import MARKUP, START_TAG_NAME
from rules.numbers import write_digits
from rules.phones import Form, Phone, PhoneError, parse_loose
from rules.tokenizer import TEXT, classify

if TYPE_CHECKING:
    from rules.scan import Occurrence, Page

Where = Literal["text", "tel"]
Edit = tuple[int, int, bytes]

REVEAL_BUTTON = '<button type="button" class="dni-reveal" data-dni-token="{token}">{label}</button>'
REVEAL_LINK_ATTRIBUTES = ' data-dni-token="{token}" role="button"'
REVEAL_SCRIPT = '<script src="{src}" defer></script>'

_BODY_END = re.compile(rb"</body[\t\n\f\r />]", re.IGNORECASE)
_LINK_END = re.compile(rb"</a[\t\n\f\r />]", re.IGNORECASE)
_FORMAT_SEPARATORS = re.compile(r"[ \-]+")  # between phonenumbers' digit groups
_START_END = itemgetter(0, 1)  # edits in page order; a stable sort keeps insertions in order


@dataclass(frozen=True)
class Tracking:
    """A tracking number to write in place of an original: E.164 plus an optional code."""

    e164: str
    code: str | None = None


def direct(page: Page, assignments: Mapping[str, Tracking], code_template: str) -> bytes:
    source = page.source
    edits: list[Edit] = []
    for occurrence in page.occurrences:
        tracking = assignments.get(occurrence.phone.e164)
        if tracking is None:
            continue
        try:
            target = _target_digits(occurrence, tracking)
        except PhoneError:  # not a number at all: this phone keeps its original
            continue
        if target is not None and len(target) == len(occurrence.digits):
            positions = occurrence.positions  # one edit, each digit replaced where it stands
            edits.append((positions[0], positions[-1] + 1, write_digits(source, positions, target)))
        else:
            edits.extend(_reformat_edits(page, occurrence, tracking))
        if tracking.code:
            edits.append(_code_edit(page, occurrence, tracking.code, code_template))
    return page.restore(splice(source, edits))


def click(page: Page, tokens: Mapping[str, str], script_src: str, label: str) -> bytes:
    chosen = [o for o in page.occurrences if o.phone.e164 in tokens]
    if not chosen:
        return page.body
    links = _reveal_links(page.source, chosen)
    edits: list[Edit] = []
    for occurrence in chosen:
        token = html.escape(tokens[occurrence.phone.e164], quote=True)
        if occurrence.where == "tel":
            edits.extend(_link_edits(page, occurrence, token))
            continue
        inside_link = any(start <= occurrence.start < end for start, end in links)
        markup = (
            html.escape(label)
            if inside_link
            else REVEAL_BUTTON.format(token=token, label=html.escape(label))
        )
        edits.extend(
            _replace_keeping_tags(
                page.source, occurrence.start, occurrence.end, _encode(page, markup)
            )
        )
    edits.append(_script_edit(page, script_src))
    return page.restore(splice(page.source, edits))


def write_like(
    sample: str, original: Phone, tracking: Tracking, *, code_template: str = " (code {code})"
) -> str:
    """A tracking number written the way `sample` writes `original` (for a reveal answer)."""
    from rules.numbers import Matcher
    from rules.scan import scan

    body = html.escape(sample, quote=False).encode("utf-8")
    page = scan(body, Matcher([original]), charset="utf-8")
    if not page.occurrences:
        written = parse_loose(tracking.e164).format(
            "national" if _same_country(original, tracking) else "international"
        )
        return written + (code_template.format(code=tracking.code) if tracking.code else "")
    return html.unescape(
        page.render({original.e164: tracking}, code_template=code_template).decode("utf-8")
    )


def splice(body: bytes, edits: Iterable[Edit]) -> bytes:
    """`body` with each (start, end, new) edit applied; edits must not overlap."""
    view = memoryview(body)  # slices of a view copy nothing: the join is the one copy
    pieces: list[bytes | memoryview] = []
    pos = 0
    for start, end, new in sorted(edits, key=_START_END):
        if start < pos:
            continue
        pieces.append(view[pos:start])
        pieces.append(new)
        pos = end
    if not pieces:
        return body
    pieces.append(view[pos:])
    return b"".join(pieces)


def _code_edit(page: Page, occurrence: Occurrence, code: str, template: str) -> Edit:
    """The tracking code after the number: `,code` in a tel: link, the template in text."""
    end = occurrence.positions[-1] + 1
    if occurrence.where == "tel":
        return (end, end, b"," + html.escape(code).encode("ascii", "ignore"))
    return (end, end, _encode(page, template.format(code=html.escape(code))))


def _target_digits(occurrence: Occurrence, tracking: Tracking) -> str | None:
    """The tracking number's digits in the occurrence's form, or None if it has no such form."""
    original, new = occurrence.phone, parse_loose(tracking.e164)
    if occurrence.form == "national":
        if new.country_code != original.country_code:
            return None
        index = (
            original.national_digits.index(occurrence.digits)
            if occurrence.digits in original.national_digits
            else 0
        )
        return new.national_digits[min(index, len(new.national_digits) - 1)]
    prefix = occurrence.digits[: occurrence.prefix_digits]
    rest = occurrence.digits[occurrence.prefix_digits :]
    with_trunk = rest != f"{original.country_code}{original.national_number}"
    trunk = (
        new.trunk_prefix
        if with_trunk and not new.national_number.startswith(new.trunk_prefix)
        else ""
    )
    return f"{prefix}{new.country_code}{trunk}{new.national_number}"


def _reformat_edits(page: Page, occurrence: Occurrence, tracking: Tracking) -> list[Edit]:
    """Write a tracking number of another length in the occurrence's form and separator.

    A national occurrence of a foreign tracking number gets its international
    form, the only one a visitor of the page's country can dial. A tel: link gets
    digits only; text gets phonenumbers' grouping, with the page's separator and
    the page's parentheses around the area code.
    """
    new = parse_loose(tracking.e164)
    first = occurrence.positions[occurrence.prefix_digits]
    end = occurrence.positions[-1] + 1
    national = occurrence.form == "national"
    if occurrence.where == "tel":
        if national and new.country_code == occurrence.phone.country_code:
            return [(first, end, new.national_digits[0].encode())]
        digits = f"{new.country_code}{new.national_number}"
        return [(first, end, (digits if not national else "+" + digits).encode())]
    same_country = new.country_code == occurrence.phone.country_code
    # A foreign number has no national form a visitor of the page's country can dial.
    form: Form = "national" if national and same_country else "international"
    formatted = new.format(form).replace("(", "").replace(")", "")
    plus = formatted.startswith("+") and national
    groups = _FORMAT_SEPARATORS.split(formatted.lstrip("+"))
    if form == "national" and _area_code_in_parens(page.source, occurrence):
        groups[0] += ")"
    joined = _separator(page.source, occurrence).join(group.encode("ascii") for group in groups)
    return _replace_keeping_tags(page.source, first, end, (b"+" if plus else b"") + joined)


def _area_code_in_parens(body: bytes, occurrence: Occurrence) -> bool:
    before = body[occurrence.start : occurrence.positions[0]]
    return before.endswith(b"(") and b")" in _first_gap(body, occurrence)


def _first_gap(body: bytes, occurrence: Occurrence) -> bytes:
    for before, after in pairwise(occurrence.positions):
        if after > before + 1:
            return body[before + 1 : after]
    return b""


def _separator(body: bytes, occurrence: Occurrence) -> bytes:
    """The separator between the occurrence's first two digit groups (empty when ungrouped)."""
    gap = _first_gap(body, occurrence)
    if b"<" in gap:
        return b" "
    return gap.replace(b"(", b"").replace(b")", b"") or (b" " if gap else b"")


def _replace_keeping_tags(body: bytes, start: int, end: int, new: bytes) -> list[Edit]:
    """Replace the text of [start, end) with `new`, keeping any tags inside where they are."""
    edits: list[Edit] = []
    pos, placed = start, False
    for tag in MARKUP.finditer(body, start, end):
        if tag.start() > pos:
            edits.append((pos, tag.start(), b"" if placed else new))
            placed = True
        pos = tag.end()
    if pos < end:
        edits.append((pos, end, b"" if placed else new))
        placed = True
    if not placed:
        edits.append((start, start, new))
    return edits


def _link_edits(page: Page, occurrence: Occurrence, token: str) -> list[Edit]:
    assert occurrence.tag is not None and occurrence.value is not None
    name = START_TAG_NAME.match(page.source, occurrence.tag.start)
    assert name is not None
    return [
        (name.end(), name.end(), REVEAL_LINK_ATTRIBUTES.format(token=token).encode("ascii")),
        (occurrence.value[0], occurrence.value[1], b"#"),
    ]


def _reveal_links(body: bytes, chosen: list[Occurrence]) -> list[tuple[int, int]]:
    """The spans from each reveal link's start tag to its </a>."""
    spans = []
    for occurrence in chosen:
        if occurrence.where == "tel" and occurrence.tag is not None:
            close = _LINK_END.search(body, occurrence.tag.end)
            spans.append((occurrence.tag.start, close.start() if close else len(body)))
    return spans


def _script_edit(page: Page, src: str) -> Edit:
    """Insert the reveal script before the last `</body>` in text, else at the end."""
    markup = REVEAL_SCRIPT.format(src=html.escape(src, quote=True)).encode(
        "ascii", "xmlcharrefreplace"
    )
    source = page.source
    ends = [m.start() for m in _BODY_END.finditer(source)]
    if ends:
        rows, _title = classify(source, ends)
        for at, row in zip(reversed(ends), reversed(rows), strict=True):
            if row[0] == TEXT:
                return (at, at, markup)
    return (len(source), len(source), markup)


def _same_country(original: Phone, tracking: Tracking) -> bool:
    return parse_loose(tracking.e164).country_code == original.country_code


def _encode(page: Page, text: str) -> bytes:
    return text.encode(page.source_charset, "xmlcharrefreplace")
