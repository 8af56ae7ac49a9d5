"""Provider calls made off the critical path, tracked so shutdown can drain or cancel them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from proxy import metrics
from proxy.logs import log_event


class Background:
    """A bounded set of fire-and-forget tasks; past `limit` pending, new ones are dropped."""

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, what: str) -> bool:
        """Run `coro` in the background; False (and the coroutine closed) when over the limit."""
        if len(self._tasks) >= self._limit:
            coro.close()
            metrics.FALLBACKS.labels(reason="background_full").inc()
            return False
        task = asyncio.get_running_loop().create_task(coro, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log_event(
                "background_error",
                logging.ERROR,
                task=task.get_name(),
                error=type(task.exception()).__name__,
            )

    async def drain(self, timeout: float) -> None:
        """Let pending tasks finish for up to `timeout` seconds, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
