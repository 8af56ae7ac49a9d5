"""Phone numbers, parsed once with phonenumbers into the digit strings pages write.

A configured number is known by its E.164 form. What the scanner needs is the
set of digit sequences a page may show for it: the national forms of the
number's own country (with and without the trunk prefix where the country
drops it in international use) and the country code plus the national
significant number for international forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberFormat

DEFAULT_REGION = "FR"

Form = Literal["national", "international"]


class PhoneError(ValueError):
    """A text that is not a valid phone number for the region it was read in."""


@dataclass(frozen=True)
class Phone:
    """A valid phone number and the ways pages write its digits."""

    e164: str
    country_code: int
    national_number: str
    """The national significant number's digits (Italian leading zero included)."""
    trunk_prefix: str
    """The national (trunk) prefix, `0` in France, `1` in the US, empty where none."""
    national_digits: tuple[str, ...]
    """Digit strings of the national forms, most usual first."""

    @property
    def international_digits(self) -> str:
        return f"{self.country_code}{self.national_number}"

    def format(self, form: Form) -> str:
        """The number grouped as phonenumbers writes it, in a national or international form."""
        number = phonenumbers.parse(self.e164)
        style = (
            PhoneNumberFormat.NATIONAL if form == "national" else PhoneNumberFormat.INTERNATIONAL
        )
        return phonenumbers.format_number(number, style)

    def digits(self, form: Form) -> str:
        if form == "international":
            return self.international_digits
        return self.national_digits[0]


@lru_cache(maxsize=4096)
def parse_phone(text: str, region: str = DEFAULT_REGION) -> Phone:
    """Parse a number written in any form; raise PhoneError naming the text and region.

    Cached: providers hand out the same tracking numbers over and over, and
    phonenumbers takes tens of microseconds per parse.
    """
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(_invalid(text, region)) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(_invalid(text, region))
    return _phone(number)


@lru_cache(maxsize=4096)
def parse_loose(text: str, region: str = DEFAULT_REGION) -> Phone:
    """Parse a number a provider handed out, even one phonenumbers' metadata does not know.

    Tracking numbers come from pools the metadata may lag behind; only text that
    is not a number at all raises PhoneError.
    """
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(_invalid(text, region)) from exc
    return _phone(number)


def is_valid_region(region: str) -> bool:
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


def _invalid(text: str, region: str) -> str:
    return f'"{text}" is not a valid phone number for region {region.upper()}'


def _phone(number: phonenumbers.PhoneNumber) -> Phone:
    nsn = phonenumbers.national_significant_number(number)
    region = phonenumbers.region_code_for_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region or "ZZ")
    trunk = (metadata.national_prefix or "") if metadata is not None else ""
    national = "".join(
        c for c in phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL) if c.isdigit()
    )
    forms = [national]
    for candidate in (trunk + nsn, nsn):
        if candidate not in forms and (candidate == national or len(candidate) >= len(nsn)):
            forms.append(candidate)
    # A bare national significant number is only a national form where the
    # country writes it that way (the US, Italy); France never writes 490260716.
    if national.startswith(trunk) and trunk and nsn in forms and nsn != national:
        forms.remove(nsn)
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        country_code=number.country_code or 0,
        national_number=nsn,
        trunk_prefix=trunk,
        national_digits=tuple(forms),
    )
