"""A small time-limited, single-flight cache for expensive engine rounds.

Every caller that finds the value stale while a refresh is already running awaits that same
refresh: ten admins refreshing the page at once cost the engine one round of calls, not ten.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self, ttl: float, fetch: Callable[[], Awaitable[T]], clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._fetch = fetch
        self._clock = clock
        self._value: T | None = None
        self._at: float | None = None  # clock() when the value was fetched
        self._inflight: asyncio.Future | None = None
        self.rounds = 0  # refreshes started, for tests and the benchmark

    @property
    def age(self) -> float | None:
        return None if self._at is None else self._clock() - self._at

    def fresh(self) -> bool:
        return self._at is not None and self._clock() - self._at < self.ttl

    @property
    def value(self) -> T | None:
        return self._value

    async def get(self, stale_ok: bool = False) -> T:
        """The cached value when fresh; otherwise join (or start) one refresh. With
        ``stale_ok`` an old value is returned at once and refreshed in the background."""
        if self.fresh():
            return cast(T, self._value)  # fetched, so set
        if stale_ok and self._at is not None:
            self.refresh_soon()
            return cast(T, self._value)
        return await self._refresh()

    def refresh_soon(self) -> None:
        """Start a refresh in the background unless one is running or the value is fresh."""
        if self._inflight is None and not self.fresh():
            task = asyncio.ensure_future(self._refresh())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # errors are seen by awaiting callers

    def invalidate(self) -> None:
        self._at = None

    async def _refresh(self) -> T:
        if self._inflight is None:
            self.rounds += 1
            self._inflight = asyncio.ensure_future(self._fetch())
            self._inflight.add_done_callback(self._done)
        return await asyncio.shield(self._inflight)

    def _done(self, fut: asyncio.Future) -> None:
        self._inflight = None
        if not fut.cancelled() and fut.exception() is None:
            self._value = fut.result()
            self._at = self._clock()
