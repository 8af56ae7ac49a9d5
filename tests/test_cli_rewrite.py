"""`dni-edge rewrite PAGE --phone ORIGINAL=TRACKING ...`: bytes out, or a JSON report."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from factories import button, html_page, reveal_script

from proxy import cli

PAGE = html_page(
    '<p>Tél : <a href="tel:+33490260716">04 90 26 07 16</a></p><p>Nîmes : 04.66.21.21.21</p>',
    title="Plomberie &amp; Chauffage",
)
PHONE = "--phone=04 90 26 07 16=08 99 12 34 56"


@dataclass(frozen=True)
class Result:
    status: int
    out: bytes
    err: str


class Runner(Protocol):
    def __call__(self, *argv: str, stdin: bytes = b"") -> Result: ...


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]) -> Runner:
    def invoke(*argv: str, stdin: bytes = b"") -> Result:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            status = cli.main(["rewrite", *argv])
        except SystemExit as exc:
            status = int(exc.code or 0)
        captured = capsysbinary.readouterr()
        return Result(status, captured.out, captured.err.decode())

    return invoke


@pytest.fixture
def page_file(tmp_path: Path) -> Path:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.encode())
    return path


def test_rewrites_a_file_to_stdout(run: Runner, page_file: Path) -> None:
    result = run(str(page_file), PHONE)
    assert (result.status, result.err) == (0, "")
    expected = PAGE.replace("tel:+33490260716", "tel:+33899123456").replace(
        "04 90 26 07 16", "08 99 12 34 56"
    )
    assert result.out == expected.encode()


def test_reads_stdin_and_keeps_every_other_byte(run: Runner) -> None:
    body = b"\xef\xbb\xbf<p>T\xe9l\xa0: 04 90 26 07 16\r\n\xff</p>"
    result = run("-", PHONE, "--charset", "windows-1252", stdin=body)
    assert result.status == 0
    assert result.out == body.replace(b"04 90 26 07 16", b"08 99 12 34 56")


def test_several_phones_codes_and_region(run: Runner, page_file: Path) -> None:
    result = run(
        str(page_file),
        "--region",
        "fr",
        "--phone",
        "+33 4 90 26 07 16=+33 8 99 12 34 56",
        "--phone",
        "0466212121=0899654321",
        "--code",
        "0490260716=1234",
    )
    assert result.status == 0
    expected = (
        PAGE.replace("tel:+33490260716", "tel:+33899123456,1234")
        .replace("04 90 26 07 16", "08 99 12 34 56 (code 1234)")
        .replace("04.66.21.21.21", "08.99.65.43.21")
    )
    assert result.out == expected.encode()


def test_region_reads_national_forms(run: Runner) -> None:
    body = b"<p>Call (617) 495-6890</p>"
    result = run("-", "--region", "US", "--phone", "(617) 495-6890=617.496.1234", stdin=body)
    assert result.out == b"<p>Call (617) 496-1234</p>"


def test_click_uses_placeholder_tokens(run: Runner, page_file: Path) -> None:
    result = run(str(page_file), PHONE, "--click")
    assert result.status == 0
    token = "demo-+33490260716"
    link = f'<a data-dni-token="{token}" role="button" href="#">Afficher le numéro</a>'
    expected = PAGE.replace('<a href="tel:+33490260716">04 90 26 07 16</a>', link).replace(
        "</body>", f"{reveal_script()}</body>"
    )
    assert result.out == expected.encode()
    assert button(token) not in result.out.decode()


def test_report(run: Runner, page_file: Path) -> None:
    result = run(str(page_file), PHONE, "--phone", "01 23 45 67 89=08 99 65 43 21", "--report")
    assert result.status == 0
    assert json.loads(result.out) == {
        "title": "Plomberie & Chauffage",
        "charset": "utf-8",
        "phones": {
            "+33490260716": {"text": 1, "tel": 1},
            "+33123456789": {"text": 0, "tel": 0},
        },
    }


BAD_ARGUMENTS = [
    pytest.param(
        ["--phone", "04 90=08 99 12 34 56"],
        '"04 90" is not a valid phone number for region FR',
        id="unparseable-original",
    ),
    pytest.param(
        ["--phone", "04 90 26 07 16=0899"],
        '"0899" is not a valid phone number for region FR',
        id="unparseable-tracking",
    ),
    pytest.param(["--phone", "0490260716"], "ORIGINAL=TRACKING", id="no-equals-sign"),
    pytest.param([PHONE, "--charset", "klingon-8"], "unknown charset", id="bad-charset"),
    pytest.param([PHONE, "--region", "XX"], "unknown region", id="bad-region"),
    pytest.param([PHONE, "--code", "0466212121=12"], "not an ORIGINAL", id="code-for-unknown"),
    pytest.param([PHONE, "--code", "0490260716=abc"], "not a code", id="code-not-diallable"),
    pytest.param([], "--phone", id="phone-is-required"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_ARGUMENTS)
def test_bad_arguments_exit_2_with_one_line(
    run: Runner, page_file: Path, argv: list[str], message: str
) -> None:
    result = run(str(page_file), *argv)
    assert result.status == 2
    assert result.out == b""
    assert result.err.startswith("dni-edge rewrite: error: ")
    assert result.err.endswith("\n") and result.err.count("\n") == 1
    assert message in result.err


def test_unknown_option_exits_2(run: Runner, page_file: Path) -> None:
    result = run(str(page_file), PHONE, "--colour")
    assert (result.status, result.out) == (2, b"")
    assert result.err.startswith("dni-edge") and result.err.count("\n") == 1


def test_missing_page_file(run: Runner, tmp_path: Path) -> None:
    result = run(str(tmp_path / "absent.html"), PHONE)
    assert result.status == 2
    assert result.err.startswith("dni-edge rewrite: error: cannot read ")
    assert result.err.count("\n") == 1


def test_console_entry_point_writes_binary_stdout(page_file: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "rewrite", str(page_file), PHONE],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert b"08 99 12 34 56" in done.stdout
