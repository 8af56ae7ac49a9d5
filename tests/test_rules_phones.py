"""Configured numbers: parsed once, in any written form, into the digit strings pages show."""

from __future__ import annotations

import dataclasses

import pytest

from rules import DEFAULT_REGION, PhoneError, parse_phone

AVIGNON = "+33490260716"

SAME_NUMBER_WRITTEN = [
    pytest.param("04 90 26 07 16", "FR", id="fr-national-pairs"),
    pytest.param("0490260716", "FR", id="fr-national-ungrouped"),
    pytest.param("04.90.26.07.16", "FR", id="fr-national-dotted"),
    pytest.param("+33 4 90 26 07 16", "FR", id="fr-international"),
    pytest.param("+33 (0)4 90 26 07 16", "FR", id="fr-international-trunk-in-parens"),
    pytest.param("0033 4 90 26 07 16", "FR", id="fr-international-00"),
    pytest.param("+33490260716", "FR", id="fr-e164"),
    pytest.param("+33490260716", "US", id="e164-any-region"),
    pytest.param("04 90 26 07 16", "fr", id="region-lower-case"),
]


@pytest.mark.parametrize(("text", "region"), SAME_NUMBER_WRITTEN)
def test_every_written_form_parses_to_the_same_e164(text: str, region: str) -> None:
    assert parse_phone(text, region).e164 == AVIGNON


def test_default_region_is_france() -> None:
    assert DEFAULT_REGION == "FR"
    assert parse_phone("04 90 26 07 16").e164 == AVIGNON


PARTS = [
    pytest.param("04 90 26 07 16", "FR", 33, "490260716", "0", ("0490260716",), id="france"),
    pytest.param(
        "(617) 495-6890", "US", 1, "6174956890", "1", ("6174956890", "16174956890"), id="us"
    ),
    pytest.param("+49 40 21091730", "FR", 49, "4021091730", "0", ("04021091730",), id="germany"),
    pytest.param("+39 011 6706111", "FR", 39, "0116706111", "", ("0116706111",), id="italy"),
    pytest.param("020 3637 4774", "GB", 44, "2036374774", "0", ("02036374774",), id="uk"),
]


@pytest.mark.parametrize(
    ("text", "region", "country_code", "national_number", "trunk", "national_digits"), PARTS
)
def test_phone_parts(
    text: str,
    region: str,
    country_code: int,
    national_number: str,
    trunk: str,
    national_digits: tuple[str, ...],
) -> None:
    phone = parse_phone(text, region)
    assert phone.country_code == country_code
    assert phone.national_number == national_number
    assert phone.trunk_prefix == trunk
    assert phone.national_digits == national_digits


def test_france_never_lists_the_bare_national_significant_number() -> None:
    assert "490260716" not in parse_phone("04 90 26 07 16").national_digits


FORMATS = [
    pytest.param("04 90 26 07 16", "national", "04 90 26 07 16", id="fr-national"),
    pytest.param("04 90 26 07 16", "international", "+33 4 90 26 07 16", id="fr-international"),
    pytest.param("+1 617 495 6890", "national", "(617) 495-6890", id="us-national"),
    pytest.param("+1 617 495 6890", "international", "+1 617-495-6890", id="us-international"),
]


@pytest.mark.parametrize(("text", "form", "expected"), FORMATS)
def test_format_groups_as_phonenumbers_does(text: str, form: str, expected: str) -> None:
    assert parse_phone(text).format(form) == expected  # type: ignore[arg-type]


INVALID = [
    pytest.param("04 90", "FR", '"04 90" is not a valid phone number for region FR', id="short"),
    pytest.param("hello", "FR", '"hello" is not a valid phone number for region FR', id="words"),
    pytest.param("", "FR", '"" is not a valid phone number for region FR', id="empty"),
    pytest.param(
        "04 90 26 07 16",
        "US",
        '"04 90 26 07 16" is not a valid phone number for region US',
        id="french-digits-read-as-us",
    ),
    pytest.param(
        "04 90 26 07 16",
        "xx",
        '"04 90 26 07 16" is not a valid phone number for region XX',
        id="unknown-region",
    ),
    pytest.param(
        "00 00 00 00 00",
        "FR",
        '"00 00 00 00 00" is not a valid phone number for region FR',
        id="unassigned-range",
    ),
]


@pytest.mark.parametrize(("text", "region", "message"), INVALID)
def test_invalid_numbers_raise_a_phone_error_naming_text_and_region(
    text: str, region: str, message: str
) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text, region)
    assert str(caught.value) == message


def test_phone_error_is_a_value_error() -> None:
    assert issubclass(PhoneError, ValueError)


def test_phones_are_frozen_and_hashable() -> None:
    phone = parse_phone("04 90 26 07 16")
    assert phone == parse_phone("+33 4 90 26 07 16")
    assert len({phone, parse_phone("0490260716")}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        phone.e164 = "+33899123456"  # type: ignore[misc]
