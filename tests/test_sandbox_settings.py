"""Sandbox settings from TOML, their validation at start-up, and the command that runs it."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sandbox_helpers import VIEW

from sandbox import (
    DEMO_ADV_ID,
    DEMO_API_KEY,
    DEMO_FREESPEE_SECRET,
    FREESPEE_PATH,
    DomainSettings,
    PoolSettings,
    SandboxConfigError,
    SandboxSettings,
    demo_settings,
    load_settings,
)
from sandbox.cli import DEFAULT_DB, main, read_settings, register
from sandbox.testing import running_sandbox

REPO = Path(__file__).resolve().parent.parent
PRODUCTION_KEY = "osp_3a8f1c5d7b2e4906a8c1f5d3b9e7042c"


def test_demo_constants() -> None:
    assert DEMO_API_KEY == "osp_test_demo_key"
    assert (REPO / "sandbox" / "demo.key").read_text().strip() == DEMO_API_KEY
    assert (DEMO_ADV_ID, DEMO_FREESPEE_SECRET) == ("demo", "freespee-demo-secret")
    assert FREESPEE_PATH == "/freespee/dynamic-numbers"


def test_demo_settings_have_the_pools_the_demo_needs() -> None:
    (domain,) = demo_settings().domains
    assert domain.api_key == DEMO_API_KEY
    assert {p.type_id for p in domain.pools} >= {1, 3, 5, 6}
    assert domain.default_type == 3
    assert domain.pool(5) == PoolSettings(5, 100, shared_code=True)
    assert domain.pool(3) is not None and domain.pool(3).size >= 100_000  # type: ignore[union-attr]


def test_an_empty_table_is_the_demo() -> None:
    assert load_settings({}) == demo_settings()


def test_a_full_table() -> None:
    settings = load_settings(
        {
            "seed": 7,
            "visit_timeout": 600,
            "domains": [
                {
                    "name": "shop.example",
                    "api_key": "osp_test_shop",
                    "default_type": 6,
                    "default_expiration": 900,
                    "pools": [{"type": 6, "size": 20}, {"type": 5, "size": 2, "shared_code": True}],
                }
            ],
            "advertisers": [
                {
                    "adv_id": "acme",
                    "secret": "s3cret",
                    "region": "GB",
                    "prefix": "+44207946",
                    "digits": 4,
                    "size": 50,
                }
            ],
        }
    )
    assert settings.seed == 7 and settings.visit_timeout == 600
    assert settings.domains == (
        DomainSettings(
            "shop.example", "osp_test_shop", (PoolSettings(6, 20), PoolSettings(5, 2, True)), 6, 900
        ),
    )
    assert settings.advertiser("acme") is not None
    assert settings.advertiser("acme").region == "GB"  # type: ignore[union-attr]


def _domain(**change: Any) -> dict[str, Any]:
    return {"api_key": "osp_test_x", "pools": [{"type": 3, "size": 10}], **change}


SETTINGS_ERRORS = [
    pytest.param(
        {"domains": [_domain(api_key=PRODUCTION_KEY)]},
        "sandbox.domains[0].api_key: looks like a production Optico key (osp_ + 32 hex digits); "
        "the sandbox only takes test keys such as 'osp_test_demo_key'",
        id="production-key",
    ),
    pytest.param(
        {"port": 1},
        "sandbox.port: unknown key; known: ['advertisers', 'domains', 'seed', 'visit_timeout']",
        id="unknown-top-key",
    ),
    pytest.param({"domains": []}, "sandbox.domains: at least one domain is needed", id="no-domain"),
    pytest.param(
        {"domains": {"a": 1}},
        "sandbox.domains: expected an array of tables",
        id="domains-not-array",
    ),
    pytest.param(
        {"domains": [_domain(api_key=None)]},
        "sandbox.domains[0].api_key: missing; it is required",
        id="no-api-key",
    ),
    pytest.param(
        {"domains": [_domain(), _domain(name="b")]},
        "sandbox.domains[].api_key: 'osp_test_x' is used twice; each must be unique",
        id="duplicate-key",
    ),
    pytest.param(
        {"domains": [_domain(pools=[{"type": 13, "size": 5}])]},
        "sandbox.domains[0].pools[0].type: 13 is not in the tracking type prefix table "
        "(known: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17, 18, 20, 21, 22, 23, 24, 25, 26, "
        "27, 28, 29, 30, 31, 32, 33, 34, 35, 36])",
        id="type-not-in-table",
    ),
    pytest.param(
        {"domains": [_domain(pools=[{"type": 5, "size": 0}], default_type=5)]},
        "sandbox.domains[0].pools[0].size: must be between 1 and 1000000 for this prefix",
        id="empty-pool",
    ),
    pytest.param(
        {"domains": [_domain(pools=[{"type": 5, "size": 10**6 + 1}], default_type=5)]},
        "sandbox.domains[0].pools[0].size: must be between 1 and 1000000 for this prefix",
        id="pool-bigger-than-prefix",
    ),
    pytest.param(
        {"domains": [_domain(pools=[{"type": 3, "size": "ten"}])]},
        "sandbox.domains[0].pools[0].size: expected an integer",
        id="size-not-integer",
    ),
    pytest.param(
        {"domains": [_domain(pools=[{"type": 3, "size": 1, "shared_code": "yes"}])]},
        "sandbox.domains[0].pools[0].shared_code: expected true or false",
        id="shared-not-boolean",
    ),
    pytest.param(
        {"domains": [_domain(default_type=6)]},
        "sandbox.domains[0].default_type: no pool of type 6; add one or pick one of [3]",
        id="default-type-without-pool",
    ),
    pytest.param(
        {"domains": [_domain(default_expiration=0)]},
        "sandbox.domains[0].default_expiration: must be a positive number of seconds",
        id="zero-default-expiration",
    ),
    pytest.param(
        {"visit_timeout": 0},
        "sandbox.visit_timeout: must be a positive number of seconds",
        id="zero-visit-timeout",
    ),
    pytest.param(
        {"advertisers": [{"adv_id": "a"}]},
        "sandbox.advertisers[0].secret: missing; it is required",
        id="advertiser-without-secret",
    ),
    pytest.param(
        {"advertisers": [{"adv_id": "a", "secret": "s", "prefix": "4930"}]},
        "sandbox.advertisers[0].prefix: expected the start of an E.164 number, '+49301598'",
        id="prefix-not-e164",
    ),
    pytest.param(
        {"advertisers": [{"adv_id": "a", "secret": "s", "region": "XX"}]},
        "sandbox.advertisers[0].region: 'XX' is not a region code",
        id="unknown-region",
    ),
    pytest.param(
        {"advertisers": [{"adv_id": "a", "secret": "s", "size": 10**4 + 1}]},
        "sandbox.advertisers[0].size: must be between 1 and 10**digits",
        id="advertiser-pool-too-big",
    ),
]


@pytest.mark.parametrize(("table", "message"), SETTINGS_ERRORS)
def test_settings_errors(table: dict[str, Any], message: str) -> None:
    with pytest.raises(SandboxConfigError) as caught:
        load_settings(table)
    assert str(caught.value) == message


async def test_a_production_key_is_refused_at_start() -> None:
    domain = DomainSettings("live.example", PRODUCTION_KEY, (PoolSettings(3, 10),))
    with pytest.raises(SandboxConfigError, match="production Optico key"):
        async with running_sandbox(settings=SandboxSettings((domain,))):
            pass


# --- reading files ---------------------------------------------------------------------


def test_read_settings_from_a_sandbox_table(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nlisten = "127.0.0.1:8080"\n[sandbox]\nseed = 9\n')
    assert read_settings(str(path)).seed == 9


def test_read_settings_from_a_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(
        'seed = 5\n[[domains]]\napi_key = "osp_test_own"\npools = [{ type = 3, size = 4 }]\n'
    )
    settings = read_settings(str(path))
    assert (settings.seed, settings.domains[0].api_key) == (5, "osp_test_own")


def test_a_config_without_a_sandbox_table_runs_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nlisten = "127.0.0.1:8080"\n')
    assert read_settings(str(path)) == demo_settings()


def test_the_repository_config_runs_the_sandbox() -> None:
    assert read_settings(str(REPO / "config.toml")).domains[0].api_key == DEMO_API_KEY


def test_settings_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[sandbox]\nvisit_timeout = -1\n")
    with pytest.raises(SandboxConfigError) as caught:
        read_settings(str(path))
    assert (
        str(caught.value) == f"{path}: sandbox.visit_timeout: must be a positive number of seconds"
    )


# --- the command -----------------------------------------------------------------------


def test_register_adds_the_sandbox_command() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox"])
    assert (args.host, args.port, args.db, args.config) == ("127.0.0.1", 8090, DEFAULT_DB, None)
    assert args.func is main


def test_a_config_error_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(
        f'[[domains]]\napi_key = "{PRODUCTION_KEY}"\npools = [{{ type = 3, size = 4 }}]\n'
    )
    args = argparse.Namespace(config=str(path), db=":memory:", host="127.0.0.1", port=0)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        f"dni-edge sandbox: {path}: sandbox.domains[0].api_key: looks like a production"
    )


async def test_the_command_serves_until_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--db",
        ":memory:",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = first.split(" on ")[1].strip()
        key_line = (await process.stdout.readline()).decode()
        async with aiohttp.ClientSession() as http:
            form = {"api_key": DEMO_API_KEY, **VIEW}
            async with http.post(url + "/ospView", data=form) as response:
                body = await response.json()
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert first.startswith("dni-edge sandbox on http://127.0.0.1:")
    assert DEMO_API_KEY in key_line
    assert body["status"] == "OK"
    assert process.returncode == 0
    assert b"stopped" in out


async def test_running_sandbox_starts_fast() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with running_sandbox() as sandbox:
        elapsed = loop.time() - started
        assert sandbox.url.startswith("http://127.0.0.1:")
    assert elapsed < 0.5  # generous: it takes a few milliseconds
