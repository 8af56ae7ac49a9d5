"""Golden cases: tests/golden/<case>/ holds input.html, expected.html and case.toml.

Adding a reported page means adding a folder, not code (see tests/golden/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import GoldenCase, golden_folders, load_golden, phone

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = [load_golden(folder) for folder in golden_folders(GOLDEN)]


def first_difference(out: bytes, expected: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(out, expected, strict=False)) if a != b),
        min(len(out), len(expected)),
    )
    return f"at byte {at}: got {out[at - 40 : at + 40]!r}, expected {expected[at - 40 : at + 40]!r}"


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden(case: GoldenCase) -> None:
    out = case.render(case.scan())
    assert out == case.expected, f"{case.description}\n{first_difference(out, case.expected)}"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden_without_assignments_is_identity(case: GoldenCase) -> None:
    page = case.scan()
    assert page.render({}) == case.input
    assert page.render_click({}, script_src=case.script_src) == case.input


COUNTED = [case for case in CASES if case.counts]


@pytest.mark.parametrize("case", COUNTED, ids=[case.name for case in COUNTED])
def test_golden_counts(case: GoldenCase) -> None:
    counts = case.scan().counts()
    for original, expected in case.counts.items():
        assert counts.get(phone(original, case.region).e164) == dict(expected)
