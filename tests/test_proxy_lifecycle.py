"""`dni-edge run` as a process: start, serve, stream in flat memory, drain on SIGTERM, health."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from harness import (
    API_KEY_ENV,
    BROWSER_UA,
    DEFAULT_TOML,
    DEFAULTS,
    NO_PROVIDER,
    SENTINEL_KEY,
    Site,
    running_site,
)

DOWNLOAD = 50 * 1024 * 1024
CHUNK = 64 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    proc: asyncio.subprocess.Process
    url: str
    log: Path

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


async def dni_edge(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "proxy",
        *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def write_config(tmp_path: Path, site: Site, **options: object) -> Path:
    values = {**DEFAULTS, **options}
    text = DEFAULT_TOML.format(
        upstream=site.url, provider=NO_PROVIDER, api_key_env=API_KEY_ENV, **values
    )
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@asynccontextmanager
async def running_process(tmp_path: Path, site: Site, **options: object) -> AsyncIterator[Process]:
    config = write_config(tmp_path, site, **options)
    port = free_port()
    log = tmp_path / "proxy.log"
    proc = await dni_edge(
        "run",
        "--config",
        str(config),
        "--listen",
        f"127.0.0.1:{port}",
        env={API_KEY_ENV: SENTINEL_KEY},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(url, proc)
        yield Process(proc, url, log)
    finally:
        if proc.returncode is None:
            proc.kill()
        stderr = await proc.stderr.read() if proc.stderr else b""
        log.write_bytes(stderr)
        await proc.wait()
        assert SENTINEL_KEY.encode() not in stderr, "the API key is in the proxy's log"


async def _wait_healthy(url: str, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 15
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise AssertionError("dni-edge run exited at start")
            try:
                async with session.get(f"{url}/__dni/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("dni-edge run did not become healthy")


async def test_sigterm_lets_in_flight_requests_finish_then_exits_0(tmp_path: Path) -> None:
    started = asyncio.Event()
    arrived = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal arrived
        arrived += 1
        if arrived == 10:
            started.set()
        await asyncio.sleep(1.0)
        return web.Response(text="done", content_type="text/plain")

    async with running_site() as site, running_process(tmp_path, site) as proxy:
        site.handlers["/slow"] = slow
        async with aiohttp.ClientSession(headers={"User-Agent": BROWSER_UA}) as client:

            async def fetch() -> tuple[int, str]:
                async with client.get(f"{proxy.url}/slow") as response:
                    return response.status, await response.text()

            inflight = [asyncio.create_task(fetch()) for _ in range(10)]
            await asyncio.wait_for(started.wait(), timeout=10)
            proxy.proc.send_signal(signal.SIGTERM)
            results = await asyncio.gather(*inflight)
            assert results == [(200, "done")] * 10
            assert await asyncio.wait_for(proxy.proc.wait(), timeout=10) == 0
            try:
                async with client.get(f"{proxy.url}/slow") as response:
                    raise AssertionError(f"served after shutdown: {response.status}")
            except aiohttp.ClientConnectionError:
                pass


async def test_a_50_mb_download_streams_in_flat_memory(tmp_path: Path) -> None:
    async def download(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(DOWNLOAD)}
        )
        await response.prepare(request)
        block = os.urandom(CHUNK)
        for _ in range(DOWNLOAD // CHUNK):
            await response.write(block)
        await response.write_eof()
        return response

    async with running_site() as site, running_process(tmp_path, site) as proxy:
        site.handlers["/big.bin"] = download
        baseline = proxy.rss_kib()
        peak = baseline
        received = 0
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"{proxy.url}/big.bin") as response,
        ):
            async for chunk in response.content.iter_chunked(CHUNK):
                received += len(chunk)
                peak = max(peak, proxy.rss_kib())
        assert received == DOWNLOAD
        assert peak - baseline < 24 * 1024, f"RSS grew {peak - baseline} KiB"


async def test_run_refuses_a_bad_config_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nlisten = "not an address"\n')
    proc = await dni_edge("run", "--config", str(config))
    _, stderr = await proc.communicate()
    assert proc.returncode == 2
    assert b"config.toml" in stderr and b"listen" in stderr


async def test_healthcheck_exits_0_when_the_proxy_answers_and_1_otherwise(tmp_path: Path) -> None:
    async with running_site() as site, running_process(tmp_path, site) as proxy:
        healthy = await dni_edge("healthcheck", "--url", f"{proxy.url}/__dni/healthz")
        assert await healthy.wait() == 0
        port = proxy.url.rsplit(":", 1)[1]
        config = write_config(tmp_path, site)
        from_config = await dni_edge(
            "healthcheck",
            "--config",
            str(config),
            env={"DNI_LISTEN": f"127.0.0.1:{port}", API_KEY_ENV: SENTINEL_KEY},
        )
        assert await from_config.wait() == 0
    dead = await dni_edge("healthcheck", "--url", f"http://127.0.0.1:{free_port()}/__dni/healthz")
    assert await dead.wait() == 1


async def test_readiness_follows_the_upstream(tmp_path: Path) -> None:
    async with (
        running_site() as site,
        running_process(tmp_path, site) as proxy,
        aiohttp.ClientSession() as client,
        client.get(f"{proxy.url}/__dni/readyz") as response,
    ):
        assert response.status == 200
    site = Site(url=f"http://127.0.0.1:{free_port()}")
    async with running_process(tmp_path, site) as proxy, aiohttp.ClientSession() as client:
        async with client.get(f"{proxy.url}/__dni/readyz") as response:
            assert response.status == 503
        async with client.get(f"{proxy.url}/__dni/healthz") as response:
            assert response.status == 200


async def test_run_says_so_when_the_address_is_taken(tmp_path: Path) -> None:
    async with running_site() as site:
        config = write_config(tmp_path, site)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = await dni_edge(
                "run",
                "--config",
                str(config),
                "--listen",
                f"127.0.0.1:{port}",
                env={API_KEY_ENV: SENTINEL_KEY},
            )
            _, stderr = await proc.communicate()
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}".encode() in stderr
    assert SENTINEL_KEY.encode() not in stderr


async def test_run_refuses_the_pure_python_http_parser(tmp_path: Path) -> None:
    async with running_site() as site:
        config = write_config(tmp_path, site)
        proc = await dni_edge(
            "run",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{free_port()}",
            env={API_KEY_ENV: SENTINEL_KEY, "AIOHTTP_NO_EXTENSIONS": "1"},
        )
        _, stderr = await proc.communicate()
    assert proc.returncode == 1
    assert b"C HTTP parser" in stderr
