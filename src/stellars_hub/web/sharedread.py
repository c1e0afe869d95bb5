"""Engine reads shared by every caller: one read in flight per key, its answer reused for
``max_age`` seconds.

A request that asks the engine something (a container's state, a listing of the backup target)
costs the engine one call however many requests ask at once or in a row: callers arriving while
a read runs wait for that read, callers within ``max_age`` of its answer get the answer. A
failed read is not kept: every caller waiting for it gets its error, the next caller reads again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

MAX_KEYS = 10_000  # one entry per lab or volume set: bounded, the oldest entries go first


class SharedReads:
    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._answers: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._running: dict[Any, asyncio.Future] = {}
        self._generation: dict[Any, int] = {}  # bumped by forget: reads begun before it are not kept

    async def get(self, key, read: Callable[[], Awaitable[Any]], fresh: bool = False) -> Any:
        """``read()``'s answer for ``key``: the kept one while younger than ``max_age`` (unless
        ``fresh``), else the one read in flight, else a new read."""
        kept = self._answers.get(key)
        if kept is not None and not fresh and self._clock() - kept[0] < self.max_age:
            return kept[1]
        running = self._running.get(key)
        if running is None or fresh:
            running = asyncio.ensure_future(self._read(key, read, self._generation.get(key, 0)))
            self._running[key] = running
        return await asyncio.shield(running)

    async def _read(self, key, read: Callable[[], Awaitable[Any]], generation: int) -> Any:
        try:
            answer = await read()
        finally:
            if self._running.get(key) is asyncio.current_task():
                del self._running[key]
        if self._generation.get(key, 0) == generation:
            self._answers[key] = (self._clock(), answer)
            self._answers.move_to_end(key)
            while len(self._answers) > MAX_KEYS:
                self._answers.popitem(last=False)
        return answer

    def forget(self, key) -> None:
        """The next ``get`` of ``key`` reads again (its subject changed: a restart, a backup); a
        read already in flight still answers its own callers but is not kept."""
        self._answers.pop(key, None)
        self._running.pop(key, None)
        self._generation[key] = self._generation.get(key, 0) + 1
        if len(self._generation) > MAX_KEYS:
            self._generation.pop(next(iter(self._generation)))
