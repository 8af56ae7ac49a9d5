"""`dni-edge check`: a summary and exit 0 for a valid config, one line and exit 2 otherwise."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.cmd_check import main

REPO = Path(__file__).resolve().parents[1]
SENTINEL = "SENTINEL-7f3a-secret"

FREESPEE_SITE = """
[providers.fs]
kind = "freespee"
url = "http://127.0.0.1:8090/freespee/dynamic-numbers"
adv_id = "demo"
secret_file = "fs.secret"
anonymize_ip = true

[[rules]]
name = "offers"
paths = ["/offers/**", "/promo*"]
phones = ["04 90 26 07 16"]
include = ["main"]
exclude = [".legal", "footer"]
parameters = { custnr = "42", source = { query = "utm_source" } }
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks below read os.environ, as the command does: start from no DNI_ variable."""
    for name in list(os.environ):
        if name.startswith("DNI_"):
            monkeypatch.delenv(name)


def check(config: str | Path | None) -> int:
    return main(argparse.Namespace(config=None if config is None else str(config)))


def test_repository_config_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DNI_OPTICO_API_KEY", SENTINEL)
    assert check(REPO / "config.toml") == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"{REPO / 'config.toml'}: OK"
    for expected in (
        "  listen          127.0.0.1:8080",
        "  upstream        http://127.0.0.1:8000",
        "  optico: optico at http://127.0.0.1:8090, timeout 1.5 s",
        "    api key: set (from env DNI_OPTICO_API_KEY)",
        "  contact: paths /contact*",
        "    display click, provider optico, expiration -1",
        '    +33490260716   written "04 90 26 07 16"',
        '    +33450982756   written "+33 4 50 98 27 56"  type 6  client_data "contact-page"',
        "  site: paths *",
    ):
        assert expected in lines
    assert SENTINEL not in out


def test_freespee_rule_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fs.secret").write_text(SENTINEL)
    (tmp_path / "dni.toml").write_text(FREESPEE_SITE)
    assert check(tmp_path / "dni.toml") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = lines.index(
        "  fs: freespee at http://127.0.0.1:8090/freespee/dynamic-numbers, timeout 1.5 s"
    )
    assert lines[start + 1 : start + 3] == [
        "    secret: set (from file fs.secret)",
        "    adv_id demo, signature in header, visitor ip anonymized",
    ]
    start = lines.index("  offers: paths /offers/** /promo*")
    assert lines[start + 1 : start + 4] == [
        "    display direct, provider fs, expiration -1",
        '    +33490260716   written "04 90 26 07 16"',
        "    only inside: main",
    ]
    assert "    never inside: .legal, footer" in out
    assert "    parameter custnr: value '42'" in out
    assert "    parameter source: query 'utm_source'" in out
    assert "token secret    random at each start" in out
    assert SENTINEL not in out


BROKEN = [
    pytest.param(
        '[server]\nlisten = "8080"\n',
        'server.listen: expected HOST:PORT like "127.0.0.1:8080" ("0.0.0.0:8080" for every '
        'interface), got "8080"',
        id="bad-listen",
    ),
    pytest.param(
        '[providers.optico]\nkind = "optico"\nurl = "http://a"\napi_key = "x"\n',
        "providers.optico.api_key: secrets never go in the config file: set api_key_env = "
        '"VARIABLE" (an environment variable holding it) or api_key_file = "path/to/file" instead',
        id="literal-secret",
    ),
    pytest.param(
        "[server\n",
        "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)",
        id="toml-syntax",
    ),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_broken_config_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    assert check(path) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"{path}: {message}\n")


def test_config_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "from-env.toml"
    path.write_text('[server]\nlisten = "127.0.0.1:9999"\n')
    monkeypatch.setenv("DNI_CONFIG", str(path))
    assert check(None) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: OK\n")
    assert "  listen          127.0.0.1:9999" in out.splitlines()


def test_missing_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(tmp_path / "absent.toml") == 2
    assert capsys.readouterr().err == (
        f"{tmp_path / 'absent.toml'}: cannot read the config file (No such file or directory); "
        "pass --config FILE or set DNI_CONFIG\n"
    )


# --- the installed command ---------------------------------------------------------------


def command() -> list[str]:
    """`python -m proxy`, as the `dni-edge` console script runs it, from the repository."""
    try:
        from proxy.cli import build_parser

        build_parser()
    except ImportError as exc:
        pytest.skip(f"the CLI does not build yet: {exc}")
    return [sys.executable, "-m", "proxy"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DNI_")}
    environ["DNI_OPTICO_API_KEY"] = SENTINEL
    return subprocess.run(
        [*command(), "check", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_command_checks_the_repository_config() -> None:
    done = run("--config", "config.toml")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("config.toml: OK\n")
    assert "    api key: set (from env DNI_OPTICO_API_KEY)" in done.stdout.splitlines()
    assert SENTINEL not in done.stdout


def test_command_exits_2_with_the_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    provider = '[providers.optico]\nkind = "optico"\nurl = "http://a"\n'
    provider += 'api_key_env = "DNI_OPTICO_API_KEY"\n'
    path.write_text(provider + '[[rules]]\nname = "a"\npaths = ["*"]\nphones = ["04 90"]\n')
    done = run("--config", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr
        == f'{path}: rules[0].phones[0]: "04 90" is not a valid phone number for region FR\n'
    )
