"""Tracking numbers: the type prefix table, seeded pools, the dotted style and written forms.

A pool never lists its numbers. Number `i` of a type is an affine permutation
of the digits after the prefix, `(a*i + b) mod 10**k`, with `a` and `b` drawn
from the seed: the same seed always gives the same numbers, any number maps
back to its index (so a number can be checked against a pool), and domains
sharing a type take disjoint index ranges, so no number belongs to two domains.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from math import gcd

# Tracking Type Prefix Table, from the Call Tracking document's appendix.
TYPE_PREFIXES: dict[int, str] = {
    1: "0800", 2: "0810", 3: "09", 4: "0820", 5: "0899", 6: "01", 7: "02", 8: "03",
    9: "04", 10: "05", 11: "0892", 12: "0897", 17: "0826", 18: "0805", 20: "0811",
    21: "0821", 22: "0825", 23: "004420", 24: "0049", 25: "004990", 26: "0034900",
    27: "004491", 28: "00349", 29: "0044800", 30: "0032", 31: "0891", 32: "0890",
    33: "0895", 34: "0806", 35: "0809", 36: "06",
}  # fmt: skip

# French numbers have ten digits. The document does not say how long the
# international types (prefix 00...) are; the sandbox gives them eight digits
# after the prefix.
NATIONAL_LENGTH = 10
INTERNATIONAL_FREE_DIGITS = 8

# Codes of shared numbers: four digits, never starting with 0 so no client
# can lose a leading zero.
CODE_FIRST = 1000
CODE_COUNT = 9000

_SEPARATORS = re.compile(r"[\s.\-/()]")


def free_digits(type_id: int) -> int:
    prefix = TYPE_PREFIXES[type_id]
    if prefix.startswith("00"):
        return INTERNATIONAL_FREE_DIGITS
    return NATIONAL_LENGTH - len(prefix)


def national_space(type_id: int) -> int:
    """How many distinct numbers the prefix of a type allows."""
    return int(10 ** free_digits(type_id))


def format_dotted(digits: str) -> str:
    """`0899123456` -> `08.99.12.34.56`, the style the document writes tracking numbers in."""
    return ".".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def normalize(written: str) -> str | None:
    """Digits of a number written in any form, French numbers in their national form.

    `08.99.12.34.56`, `0899123456`, `+33 8 99 12 34 56`, `+33 (0)8 99 12 34 56`
    and `0033899123456` all give `0899123456`; None when it is not a number.
    """
    text = written.strip().replace("(0)", "")
    international = text.startswith("+")
    digits = _SEPARATORS.sub("", text.removeprefix("+"))
    if not digits.isdigit() or not digits.isascii():
        return None
    if international:
        digits = "00" + digits
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    return digits


@dataclass(frozen=True)
class Permutation:
    """A seeded bijection of range(size): `(a*i + b) mod size`."""

    size: int
    a: int
    b: int

    @classmethod
    def seeded(cls, size: int, seed: str) -> Permutation:
        rng = random.Random(seed)
        a = rng.randrange(1, size) if size > 1 else 1
        while gcd(a, size) != 1:
            a += 1
        return cls(size, a % size or 1, rng.randrange(size))

    def __call__(self, index: int) -> int:
        return (self.a * index + self.b) % self.size

    def inverse(self, value: int) -> int:
        return (pow(self.a, -1, self.size) * (value - self.b)) % self.size


@dataclass(frozen=True)
class Pool:
    """One domain's numbers of one type, addressed by slot.

    A slot is what one assignment holds. In a plain pool a slot is a number; in
    a shared pool there are 9,000 slots per number, one per code, spread so that
    consecutive slots use different numbers.
    """

    domain: str
    type_id: int
    size: int
    shared_code: bool
    offset: int
    """First index of this domain in the type's permutation."""
    digits: Permutation
    codes: Permutation

    @classmethod
    def build(
        cls, domain: str, type_id: int, size: int, *, shared: bool, offset: int, seed: int
    ) -> Pool:
        digits = Permutation.seeded(national_space(type_id), f"{seed}:numbers:{type_id}")
        codes = Permutation.seeded(CODE_COUNT, f"{seed}:codes:{domain}:{type_id}")
        return cls(domain, type_id, size, shared, offset, digits, codes)

    @property
    def slots(self) -> int:
        return self.size * CODE_COUNT if self.shared_code else self.size

    def number(self, slot: int) -> str:
        """The number (digits) slot `slot` dials."""
        index = self.offset + slot % self.size
        width = free_digits(self.type_id)
        return f"{TYPE_PREFIXES[self.type_id]}{self.digits(index):0{width}d}"

    def code(self, slot: int) -> str | None:
        if not self.shared_code:
            return None
        return str(CODE_FIRST + self.codes(slot // self.size))

    def owns(self, number: str) -> bool:
        """Whether a number (digits) belongs to this pool."""
        prefix = TYPE_PREFIXES[self.type_id]
        rest = number.removeprefix(prefix)
        if rest == number or len(rest) != free_digits(self.type_id) or not rest.isdigit():
            return False
        return 0 <= self.digits.inverse(int(rest)) - self.offset < self.size
