"""A raw HTTP/1.1 server for client tests: exact, late or broken bytes, connections counted.

Each request (its head, and a body when it has a Content-Length) is handed to a handler
that writes whatever the test needs; the server numbers the connections it accepts.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

WAIT = 2.0
"""A guard on waiting for the server side, never a bound under test: generous on a shared box."""


@dataclass(frozen=True)
class Received:
    conn: int
    """The connection that carried the request, numbered in the order the server accepted them."""
    head: bytes
    body: bytes = b""

    @property
    def line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    @property
    def target(self) -> str:
        return self.line.split(b" ")[1].decode()

    @property
    def fields(self) -> list[tuple[str, str]]:
        return fields_of(self.head)


def fields_of(head: bytes) -> list[tuple[str, str]]:
    """The header fields of a message's head, in order, its start line left out."""
    lines = head.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """Hands each request to `handler`; a connection the handler closed is left, else read on."""

    def __init__(self, handler: Handler) -> None:
        self.url = ""
        self.requests: list[Received] = []
        self.peak_open = 0
        self._handler = handler
        self._ended: list[asyncio.Event] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[object]] = set()

    @property
    def connections(self) -> int:
        return len(self._ended)

    @property
    def targets(self) -> list[str]:
        return [request.target for request in self.requests]

    @property
    def bodies(self) -> list[bytes]:
        return [request.body for request in self.requests]

    async def wait_ended(self, count: int) -> None:
        """Until `count` connections are over (the client closed them, or the handler did)."""
        async with asyncio.timeout(WAIT):
            while sum(ended.is_set() for ended in self._ended) < count:
                await asyncio.sleep(0.01)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = len(self._ended)
        self._ended.append(asyncio.Event())
        self._writers.append(writer)
        open_now = sum(not ended.is_set() for ended in self._ended)
        self.peak_open = max(self.peak_open, open_now)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while (received := await _read_request(reader, conn)) is not None:
                self.requests.append(received)
                await self._handler(received, writer)
                if writer.is_closing():
                    break
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # stopped: ended, not cancelled, so asyncio's stream callback logs nothing
        finally:
            self._ended[conn].set()
            writer.close()
            self._tasks.discard(task)

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.wait_closed() for w in self._writers), return_exceptions=True)


async def _read_request(reader: asyncio.StreamReader, conn: int) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None  # the client closed the connection between requests
    length = 0
    for name, value in fields_of(head):
        if name.strip().lower() == "content-length":
            length = int(value)
    return Received(conn, head, await reader.readexactly(length))


@asynccontextmanager
async def raw_server(
    handler: Handler, tls: ssl.SSLContext | None = None, path: str = ""
) -> AsyncIterator[RawServer]:
    server = RawServer(handler)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}"
    try:
        yield server
    finally:
        listener.close()
        await server.stop()
        await listener.wait_closed()


def reply(body: bytes, *, head: bytes = b"HTTP/1.1 200 OK\r\n") -> bytes:
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


async def send(writer: asyncio.StreamWriter, data: bytes, piece: int = 0) -> None:
    """`data` in one write, or in writes of `piece` bytes the client reads one by one."""
    step = piece or len(data)
    for start in range(0, len(data), step):
        writer.write(data[start : start + step])
        await writer.drain()
        if piece:
            await asyncio.sleep(0.001)
