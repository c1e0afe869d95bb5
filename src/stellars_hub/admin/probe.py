"""A dependency check whose answer is reused for a while: any number of readiness requests cost
the dependency one call per interval, and a hung dependency costs each request at most the
timeout."""

from __future__ import annotations

import asyncio
import time

FRESH_SECONDS = 5.0
TIMEOUT_SECONDS = 3.0


class CachedProbe:
    def __init__(self, call, fresh: float = FRESH_SECONDS, timeout: float = TIMEOUT_SECONDS, clock=time.monotonic):
        self._call = call  # async () -> anything; raising means "not answering"
        self.fresh = fresh
        self.timeout = timeout
        self._clock = clock
        self._answer: tuple[float, str] | None = None
        self._running: asyncio.Task | None = None

    async def state(self) -> str:
        """ "ok" or why not, from the last answer while it is fresh, else from one new call that
        every concurrent caller shares."""
        if self._answer is not None and self._clock() - self._answer[0] < self.fresh:
            return self._answer[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._ask())
        task = self._running
        try:
            return await asyncio.shield(task)
        finally:
            if task.done() and self._running is task:
                self._running = None

    async def _ask(self) -> str:
        try:
            await asyncio.wait_for(self._call(), self.timeout)
            state = "ok"
        except asyncio.TimeoutError:
            state = f"no answer within {self.timeout:.0f} s"
        except Exception as exc:
            state = str(exc) or type(exc).__name__
        self._answer = (self._clock(), state)
        return state
