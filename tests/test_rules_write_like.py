"""write_like: the tracking number written in the format of a sample taken from the page."""

from __future__ import annotations

import pytest
from factories import ORIGINAL, phone

from rules import Tracking, write_like

FRENCH_TRACKING = "+33899123456"
UK_TRACKING = "+442036374774"

SAMPLES = [
    pytest.param("04 90 26 07 16", FRENCH_TRACKING, "08 99 12 34 56", id="national-pairs"),
    pytest.param("04.90.26.07.16", FRENCH_TRACKING, "08.99.12.34.56", id="national-dots"),
    pytest.param("0490260716", FRENCH_TRACKING, "0899123456", id="national-ungrouped"),
    pytest.param(
        "04\u00a090\u00a026\u00a007\u00a016",
        FRENCH_TRACKING,
        "08\u00a099\u00a012\u00a034\u00a056",
        id="national-nbsp",
    ),
    pytest.param("+33 4 90 26 07 16", FRENCH_TRACKING, "+33 8 99 12 34 56", id="international"),
    pytest.param(
        "+33 (0)4 90 26 07 16", FRENCH_TRACKING, "+33 (0)8 99 12 34 56", id="trunk-in-parens"
    ),
    pytest.param("0033 4 90 26 07 16", FRENCH_TRACKING, "0033 8 99 12 34 56", id="double-zero"),
    # A foreign number has no national form a caller in the page's country can dial.
    pytest.param("04 90 26 07 16", UK_TRACKING, "+44 20 3637 4774", id="foreign-national"),
    pytest.param("04.90.26.07.16", UK_TRACKING, "+44.20.3637.4774", id="foreign-national-dots"),
    pytest.param("+33 4 90 26 07 16", UK_TRACKING, "+44 20 3637 4774", id="foreign-international"),
]


@pytest.mark.parametrize(("sample", "tracking", "expected"), SAMPLES)
def test_written_like_the_sample(sample: str, tracking: str, expected: str) -> None:
    assert write_like(sample, phone(ORIGINAL), Tracking(tracking)) == expected


def test_code_uses_the_default_template() -> None:
    written = write_like("04 90 26 07 16", phone(ORIGINAL), Tracking(FRENCH_TRACKING, "1234"))
    assert written == "08 99 12 34 56 (code 1234)"


def test_code_uses_a_custom_template() -> None:
    tracking = Tracking(FRENCH_TRACKING, "1234")
    written = write_like("04 90 26 07 16", phone(ORIGINAL), tracking, code_template=" #{code}")
    assert written == "08 99 12 34 56 #1234"
