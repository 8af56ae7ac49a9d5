"""The configured phones compiled into one bytes regex, and a match read back into digits.

A written number is its digits with short gaps between them. A gap is a run of
at most a few separators: spaces, dots, dashes, slashes, parentheses, no-break
and narrow no-break spaces (raw in UTF-8 or single-byte encodings, or as
entities), percent-encoded separators in URLs, and inline tags such as
`<span>` or `</b>`. The digits must be exactly those of a configured phone in
one of its national forms or in an international form (`+`, `00`, `&#43;` or
`%2B`, the country code, an optional trunk `0` or `(0)`, the national
significant number). A digit right before or after the match rejects it, so a
configured number is never found inside a longer digit string.

The regex is built as a trie over the digit strings of all phones, so at each
position of the page the engine follows one branch per distinct next digit.
There is one regex per literal start (a national form's first digits, a
country code), and so one pass over the page per regex; the C module
`rules._numbers` takes the same tries, finds the matches of all of them in one
pass and keeps those `Matcher.spans` keeps (`Matcher.scan` also learns in that
pass whether a word occurs in the page), and is used when it was built (tests
hold it to the regexes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import compress
from typing import Literal, NamedTuple, Protocol

from rules.phones import Phone
from rules.tokenizer import TAG_REST

Form = Literal["national", "international"]
RawMatch = tuple[int, int, bool]
"""A pattern's match: start, end, and whether the pattern is an international form."""


class _Automaton(Protocol):
    def find(self, body: bytes) -> list[RawMatch]: ...

    def spans(self, body: bytes) -> list[tuple[int, int]]: ...

    def scan(self, body: bytes, word: bytes) -> tuple[list[tuple[int, int]], bool]: ...


def write_digits_python(source: bytes, positions: tuple[int, ...], digits: str) -> bytes:
    """`source[positions[0]:positions[-1] + 1]` with the byte at each position (ascending)
    replaced by the matching digit: the pure-Python twin of `rules._numbers.write_digits`."""
    first, last = positions[0], positions[-1]
    written = bytearray(source[first : last + 1])
    for position, digit in zip(positions, digits.encode("ascii"), strict=True):
        written[position - first] = digit
    return bytes(written)


try:
    from rules._numbers import Automaton as _NativeAutomaton
    from rules._numbers import write_digits as _native_write_digits

    NATIVE: Callable[[object], _Automaton] | None = _NativeAutomaton
    write_digits: Callable[[bytes, tuple[int, ...], str], bytes] = _native_write_digits
except ImportError:  # built without a C compiler: the regexes find the same matches
    NATIVE = None
    write_digits = write_digits_python

SEPARATOR_BYTES = rb" .\-/()\t\r\n"
ENTITY_SEPARATORS: tuple[bytes, ...] = (
    b"nbsp", b"#160", b"#x0*a0", b"#8239", b"#x202f", b"thinsp", b"#8201", b"#x2009",
    b"#8203", b"#x200b", b"shy", b"#173", b"#xad", b"ndash", b"#8211", b"#x2013",
    b"#40", b"#41", b"#45", b"#46", b"#47", b"#32",
)  # fmt: skip
_SPACES = rb"(?:[ \t\r\n]|\xc2\xa0|\xa0|&(?i:nbsp|#160|#x0*a0);)"
# A digit group glued to the match by spaces or a hyphen makes it part of a longer
# number: a text-relay prefix (`18001 0800 0282 878`), a direct line (`040 21091730-12`).
_NEIGHBOUR_BEFORE = re.compile(rb"[0-9](?:" + _SPACES + rb"{0,2}|-)\Z")
_NEIGHBOUR_AFTER = re.compile(rb"(?:" + _SPACES + rb"{0,2}|-)[0-9]")
PLUS_VARIANTS: tuple[bytes, ...] = (
    rb"\+",
    rb"&#0*43;",
    rb"&#[xX]0*2[bB];",
    rb"&plus;",
    rb"%2[bB]",
    rb"\xef\xbc\x8b",  # U+FF0B fullwidth plus
)
PLUS = rb"(?:" + b"|".join(PLUS_VARIANTS) + rb")"
_INTERNATIONAL_PREFIX = re.compile(rb"(?:" + PLUS + rb"|00)[ ]?\Z")

# One separator. Every alternative starts with a literal byte or class, so the
# engine rejects a non-separator after a handful of comparisons.
_SEPARATOR = (
    rb"(?:[" + SEPARATOR_BYTES + rb"]"
    # U+00A0 and the soft hyphen in UTF-8, U+00A0 in single-byte encodings, and
    # U+202F, U+2009, U+200B and the en dash in UTF-8
    rb"|\xc2[\xa0\xad]|\xa0|\xe2\x80[\xaf\x89\x8b\x93]"
    rb"|&(?i:" + b"|".join(ENTITY_SEPARATORS) + rb");"
    rb"|%(?i:20|28|29|2d|2e|2f|c2%a0)"
    rb"|<(?:[/a-zA-Z][^<>]{0,256}>|!--(?:(?!-->).){0,64}-->))"
)
_SIMPLE_SEPARATOR = rb"[" + SEPARATOR_BYTES + rb"]"
# A gap: up to four separators. The common ones are one class test; the others
# sit behind a one-byte look-ahead, so a digit after a digit costs two tests.
GAP = rb"(?:" + _SIMPLE_SEPARATOR + rb"|(?=[\xc2\xa0\xe2&%<])" + _SEPARATOR + rb"){0,4}+"

# The first and last bytes the neighbour patterns can match: any other byte rules
# them out without running them.
_NEIGHBOUR_BEFORE_LAST = frozenset(b"0123456789 \t\r\n\xa0;-")
_NEIGHBOUR_AFTER_FIRST = frozenset(b"0123456789 \t\r\n\xc2\xa0&-")

# Bytes that start markup or an escape in a match; a match without any is plain.
_ESCAPES = b"<&%\xef"
# Tables for bytes.translate: a plain match's digits, and a flag byte per digit.
_NOT_DIGITS = bytes(byte for byte in range(256) if not 0x30 <= byte <= 0x39)
_FLAGS = bytes(int(0x30 <= byte <= 0x39) for byte in range(256))
# Inside a match: markup and escapes to skip when reading the digits back.
_PIECES = re.compile(
    rb"(?P<plus>"
    + PLUS
    + rb")|<!--.*?-->|</?[a-zA-Z][^\t\n\f\r />]*"
    + TAG_REST
    + rb"|&[#a-z0-9]+;|%[0-9a-f]{2}|(?P<digit>[0-9])",
    re.IGNORECASE | re.DOTALL,
)


class Reading(NamedTuple):
    """What a matched span says: its form, digits and where each digit byte stands."""

    phone: Phone
    form: Form
    digits: str
    positions: tuple[int, ...]
    """Offsets (in the page) of each digit of `digits`."""
    prefix_digits: int
    """How many leading digits are an international `00` prefix."""


class Matcher:
    """The configured phones compiled once into the patterns the scanner runs.

    Each pattern is a regex; when the C module `rules._numbers` is built, one
    automaton compiled from the same tries finds all their matches in one pass
    (`native=False` keeps the regexes, which find the same).
    """

    def __init__(self, phones: Iterable[Phone], *, native: bool = True) -> None:
        self.phones = tuple(dict.fromkeys(phones))
        self._national_phones: dict[str, Phone] = {}
        self._international_phones: dict[str, Phone] = {}
        for phone in self.phones:
            for digits in phone.national_digits:
                self._national_phones.setdefault(digits, phone)
            for rest in _after_country_code(phone):
                self._international_phones.setdefault(f"{phone.country_code}{rest}", phone)
        plans = _plans(self.phones) if self.phones else []
        self.patterns = [_regex(plan) for plan in plans]
        self._international = tuple(plan.international for plan in plans)
        self._automaton = NATIVE(_spec(plans)) if native and NATIVE is not None and plans else None

    def __repr__(self) -> str:
        return f"Matcher({[p.e164 for p in self.phones]})"

    @property
    def native(self) -> bool:
        """Whether the C automaton, rather than the regexes, finds the raw matches."""
        return self._automaton is not None

    def raw_matches(self, body: bytes) -> list[RawMatch]:
        """Every pattern's matches as its regex finditer yields them, in no set order."""
        if self._automaton is not None:
            return self._automaton.find(body)
        return [
            (match.start(), match.end(), international)
            for pattern, international in zip(self.patterns, self._international, strict=True)
            for match in pattern.finditer(body)
        ]

    def finditer(self, body: bytes) -> Iterator[tuple[int, int]]:
        """Spans of configured phones that are not part of a longer digit string (`spans`)."""
        return iter(self.spans(body))

    def spans(self, body: bytes) -> list[tuple[int, int]]:
        """Spans of configured phones that are not part of a longer digit string, in order.

        A digit right before the match, or a digit group separated from it by
        nothing but spaces (`18001 0800 0282 878`, a text-relay prefix), makes it
        part of another number. A `(` right before is part of the number when
        the match closes it (`(617) 495-6890`, `(+33) 4 90 26 07 16`). Of spans
        starting at the same byte the longest wins, and a span overlapping the
        one before it is dropped. The C automaton, where built, does all this itself.
        """
        if self._automaton is not None:
            return self._automaton.spans(body)
        by_start: list[tuple[int, int]] = []  # (start, -end): the longest first at a start
        for start, end, international in self.raw_matches(body):
            span = _span(body, start, end, international)
            if span is not None:
                by_start.append((span[0], -span[1]))
        by_start.sort()
        spans: list[tuple[int, int]] = []
        last_end = 0
        for start, negative_end in by_start:
            if start >= last_end:
                last_end = -negative_end
                spans.append((start, last_end))
        return spans

    def scan(self, body: bytes, word: bytes) -> tuple[list[tuple[int, int]], bool]:
        """`spans`, and whether `word` occurs in the page, in one pass where the C automaton
        is built. The answer about `word` is exact when there are spans; a page without
        any may answer False (the scanner looks no further then)."""
        if self._automaton is not None:
            return self._automaton.scan(body, word)
        spans = self.spans(body)
        return spans, bool(spans) and word in body

    def read(self, body: bytes, start: int, end: int) -> Reading | None:
        """The phone a match spells, or None when it spells none (cannot normally happen)."""
        written = body[start:end]
        if plain(written):
            return self.read_plain(written, start)
        digits: list[str] = []
        positions: list[int] = []
        international = False
        for piece in _PIECES.finditer(body, start, end):
            if piece.group("digit") is not None:
                digits.append(chr(body[piece.start()]))
                positions.append(piece.start())
            elif not digits and piece.group("plus") is not None:
                international = True
        return self._reading("".join(digits), tuple(positions), international)

    def read_plain(self, written: bytes, start: int) -> Reading | None:
        """`read` of a match that is `plain`: every digit byte in it counts."""
        digits, positions = plain_digits(written, start)
        return self._reading(digits, positions, written.find(b"+", 0, 3) >= 0)

    def phone_of(self, written: bytes, digits: str) -> tuple[Phone, Form, int] | None:
        """The phone, form and prefix digits a plain match spells, from its `plain_digits`."""
        return self._lookup(digits, written.find(b"+", 0, 3) >= 0)

    def _reading(
        self, text: str, positions: tuple[int, ...], international: bool
    ) -> Reading | None:
        found = self._lookup(text, international)
        return None if found is None else Reading(found[0], found[1], text, positions, found[2])

    def _lookup(self, digits: str, international: bool) -> tuple[Phone, Form, int] | None:
        if international:
            phone = self._international_phones.get(digits)
            return None if phone is None else (phone, "international", 0)
        if digits.startswith("00"):
            phone = self._international_phones.get(digits[2:])
            return None if phone is None else (phone, "international", 2)
        phone = self._national_phones.get(digits)
        return None if phone is None else (phone, "national", 0)


def plain_digits(written: bytes, start: int) -> tuple[str, tuple[int, ...]]:
    """A plain match's digits (every digit byte counts) and the offset of each."""
    digits = written.translate(None, _NOT_DIGITS).decode("ascii")
    positions = tuple(compress(range(start, start + len(written)), written.translate(_FLAGS)))
    return digits, positions


def plain(written: bytes) -> bool:
    """Whether a match is digits and plain separators only: no tags, entities or escapes."""
    return len(written.translate(None, _ESCAPES)) == len(written)


def _span(body: bytes, start: int, end: int, international: bool) -> tuple[int, int] | None:
    if international:
        prefix = _INTERNATIONAL_PREFIX.search(body, max(0, start - 12), start)
        if prefix is None:
            return None
        start = prefix.start()
    if (
        start
        and body[start - 1] in _NEIGHBOUR_BEFORE_LAST
        and _NEIGHBOUR_BEFORE.search(body, max(0, start - 16), start)
    ):
        return None
    if (
        end < len(body)
        and body[end] in _NEIGHBOUR_AFTER_FIRST
        and _NEIGHBOUR_AFTER.match(body, end)
    ):
        return None
    if start and body[start - 1] == 0x28 and body.find(b")", start, end) >= 0:
        start -= 1
    return start, end


@dataclass(frozen=True)
class _Plan:
    """One pattern: a literal of digits, then the trie of what may follow it."""

    literal: bytes
    node: _Node
    international: bool


def _plans(phones: tuple[Phone, ...]) -> list[_Plan]:
    """Patterns that each start with a literal: a national form's first digits, or a country code.

    The regex engine finds a pattern's literal prefix in a tight C loop and only
    tries the rest where the prefix stands; with a prefix of two bytes it does
    not even enter the matcher at every `0` of a page full of prices and dates.
    So national forms are grouped by their first two digits (`04` of
    `04 90 26 07 16`), except those written with a lone first digit (`0 800 ...`
    as phonenumbers groups French special numbers, `1-617-...` with the US trunk
    prefix), grouped by that digit; international forms are matched from their
    country code, the `+`, `00`, `&#43;` or `%2B` before it being checked by the
    caller, as is a digit right before a match (a look-behind here would disable
    the optimisation).
    """
    joined: list[str] = []
    spaced: list[str] = []
    for phone in phones:
        for digits in phone.national_digits:
            (spaced if _lone_first_digit(phone, digits) else joined).append(digits)
    by_country: dict[str, list[str]] = {}
    for phone in phones:
        by_country.setdefault(str(phone.country_code), []).extend(_after_country_code(phone))
    plans = [
        _Plan(first + second, child, False)
        for first, rest in _first_steps_tree(_tree(joined))
        for second, child in _first_steps_tree(rest)
    ]
    plans += [_Plan(digit, child, False) for digit, child in _first_steps_tree(_tree(spaced))]
    plans += [_Plan(code.encode(), _tree(rests), True) for code, rests in by_country.items()]
    return plans


def _regex(plan: _Plan) -> re.Pattern[bytes]:
    if plan.international:
        return _literal_first(plan.literal, GAP + _trie(plan.node))
    return _literal_first(plan.literal, _tail(plan.node))


def _spec(plans: list[_Plan]) -> tuple[tuple[bytes, bool, tuple[tuple[int, ...], ...]], ...]:
    """The plans as `rules._numbers.Automaton` takes them: literal, form, trie rows."""
    return tuple((plan.literal, plan.international, _rows(plan.node)) for plan in plans)


def _rows(root: _Node) -> tuple[tuple[int, ...], ...]:
    """The trie as rows (terminal, child row of 0, ..., of 9; -1 for none), parents first."""
    nodes = [root]
    rows: list[tuple[int, ...]] = []
    for node in nodes:  # grows while walked: breadth first
        children = [-1] * 10
        for ch, child in _first_steps_tree(node):
            children[int(ch)] = len(nodes)
            nodes.append(child)
        rows.append((int("" in node), *children))
    return tuple(rows)


def _lone_first_digit(phone: Phone, digits: str) -> bool:
    """Whether pages may write the first digit apart: a trunk-prefixed form or `0 800`."""
    if digits != phone.national_digits[0]:
        return True
    return len(phone.format("national").split(" ", 1)[0].strip("(")) == 1


def _literal_first(first: bytes, tail: bytes) -> re.Pattern[bytes]:
    return re.compile(re.escape(first) + rb"(?:" + tail + rb")(?![0-9])", re.DOTALL)


def _after_country_code(phone: Phone) -> list[str]:
    """What follows the country code: the national significant number, maybe after the trunk."""
    rests = [phone.national_number]
    if phone.trunk_prefix and not phone.national_number.startswith(phone.trunk_prefix):
        rests.append(phone.trunk_prefix + phone.national_number)
    return rests


_Node = dict[str, "_Node"]


def _tree(strings: list[str]) -> _Node:
    root: _Node = {}
    for digits in strings:
        node = root
        for ch in digits:
            node = node.setdefault(ch, {})
        node[""] = {}
    return root


def _trie(node: _Node) -> bytes:
    """A regex matching any digit string of the trie, gaps allowed between digits."""
    return _either(_emit_branches(node))


def _either(branches: list[bytes]) -> bytes:
    return branches[0] if len(branches) == 1 else rb"(?:" + b"|".join(branches) + rb")"


def _emit_branches(node: _Node) -> list[bytes]:
    """One regex per distinct next digit: that digit, then what may follow it."""
    return [digit + _tail(child) for digit, child in _first_steps_tree(node)]


def _first_steps_tree(node: _Node) -> list[tuple[bytes, _Node]]:
    return [(ch.encode(), child) for ch, child in sorted(node.items()) if ch]


def _tail(node: _Node) -> bytes:
    """What may follow a node: a gap and the next digits, optional where a string may end."""
    branches = _emit_branches(node)
    if not branches:
        return b""
    optional = b"?" if "" in node else b""
    return rb"(?:" + GAP + _either(branches) + rb")" + optional
