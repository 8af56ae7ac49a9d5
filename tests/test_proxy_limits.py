"""Server limits: the request-header deadline against slowloris, and the connection cap."""

from __future__ import annotations

import asyncio
import re
import resource
import time

from harness import Harness, running_proxy, running_site

from proxy.limits import ByteBudget

SLOW_SOCKETS = 500
HEADER_TIMEOUT = 1.0


def allow_fds(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


async def slow_client(proxy: Harness, stop: asyncio.Event) -> float | None:
    """Send a header block a line at a time, never finishing; the seconds until the proxy closed."""
    host, port = proxy.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    started = time.monotonic()
    writer.write(b"GET /page/a HTTP/1.1\r\nHost: example\r\n")
    try:
        while not stop.is_set():
            try:
                if await asyncio.wait_for(reader.read(1024), timeout=0.25) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                writer.write(b"X-Slow: 1\r\n")
        return None
    except ConnectionError:
        return time.monotonic() - started
    finally:
        writer.close()


async def test_slowloris_sockets_are_closed_at_the_header_deadline() -> None:
    allow_fds(4 * SLOW_SOCKETS)
    async with (
        running_site() as site,
        running_proxy(site, header_timeout=f"{HEADER_TIMEOUT}s") as proxy,
    ):
        site.page("/a.txt", "ok", content_type="text/plain")
        stop = asyncio.Event()
        slow = [asyncio.create_task(slow_client(proxy, stop)) for _ in range(SLOW_SOCKETS)]
        await asyncio.sleep(0.2)
        for _ in range(20):  # a normal visitor keeps being served meanwhile
            started = time.monotonic()
            status, _, body = await proxy.get("/a.txt")
            assert (status, body) == (200, b"ok")
            assert time.monotonic() - started < 0.5
            await asyncio.sleep(0.02)
        done, pending = await asyncio.wait(slow, timeout=HEADER_TIMEOUT + 3)
        stop.set()
        await asyncio.gather(*pending)
        closed_after = [task.result() for task in done]
        assert len(closed_after) == SLOW_SOCKETS and None not in closed_after
        assert max(closed_after) < HEADER_TIMEOUT + 2.5  # type: ignore[type-var]
        # Measured from the client's side of a connect that the busy loop may finish late.
        assert min(closed_after) >= HEADER_TIMEOUT / 2  # type: ignore[type-var]


async def test_an_idle_connection_is_closed_at_the_header_deadline() -> None:
    async with running_site() as site, running_proxy(site, header_timeout="0.5s") as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), timeout=3) == b""
        assert 0.4 < time.monotonic() - started < 2.5
        writer.close()


async def test_a_kept_alive_connection_gets_a_new_deadline_per_request() -> None:
    async with running_site() as site, running_proxy(site, header_timeout="0.5s") as proxy:
        site.page("/a.txt", "ok", content_type="text/plain")
        host, port = proxy.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(3):
            writer.write(b"GET /a.txt HTTP/1.1\r\nHost: example\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=3)
            assert head.startswith(b"HTTP/1.1 200")
            assert await reader.readexactly(2) == b"ok"
            await asyncio.sleep(0.3)  # within the deadline each time, 0.9 s in all
        writer.write(b"GET /a.txt HTTP/1.1\r\n")  # a header block that never ends
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), timeout=3) == b""
        assert time.monotonic() - started < 2.5
        writer.close()


async def test_connections_over_the_cap_are_closed_at_once() -> None:
    async with running_site() as site, running_proxy(site, max_connections=5) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        held = [await asyncio.open_connection(host, int(port)) for _ in range(5)]
        await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection(host, int(port))
        assert await asyncio.wait_for(reader.read(), timeout=2) == b""
        writer.close()
        for _, held_writer in held:
            held_writer.close()
        _, _, metrics = await proxy.get("/__dni/metrics")
        assert re.search(
            rb'dni_connections_closed_total\{reason="connection_limit"\} [1-9]', metrics
        )


async def test_byte_budget_makes_takers_wait_in_turn_and_gives_up_at_the_deadline() -> None:
    budget = ByteBudget(100)
    order: list[str] = []

    async def page(name: str, size: int, wait: float, keep: float) -> bool:
        async with budget.hold(wait) as hold:
            granted = await hold.take(size)
            order.append(f"{name}:{granted}")
            if granted:
                await asyncio.sleep(keep)
            return granted

    first = asyncio.create_task(page("a", 80, 1.0, 0.2))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(page("b", 50, 1.0, 0.0))
    late = asyncio.create_task(page("c", 50, 0.05, 0.0))
    assert await asyncio.gather(first, second, late) == [True, True, False]
    assert order == ["a:True", "c:False", "b:True"]
    assert budget.used == 0


async def test_byte_budget_survives_a_cancelled_waiter() -> None:
    budget = ByteBudget(10)
    async with budget.hold(1.0) as holder:
        assert await holder.take(10)
        waiting = asyncio.create_task(_take(budget, 10))
        behind = asyncio.create_task(_take(budget, 5))
        await asyncio.sleep(0.01)
        waiting.cancel()
    assert await behind is True
    assert budget.used == 0


async def _take(budget: ByteBudget, n: int) -> bool:
    async with budget.hold(1.0) as hold:
        return await hold.take(n)
