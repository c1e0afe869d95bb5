"""Volume sizes from a cache refreshed in the background.

The engine's ``system df`` walks every volume on the disk; run per request it let anyone with a
token keep the engine (and the worker pool that restarts and resets use) busy. Here it runs in
the runtime's statistics lane, at most once per ``interval`` seconds and only while someone asks:
requests read the last answer (``None`` sizes until the first one arrives) and never wait.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ..runtime import ContainerRuntime

log = logging.getLogger(__name__)


class VolumeSizeCache:
    def __init__(self, runtime: ContainerRuntime, interval: float = 60.0, clock=time.monotonic):
        self.runtime = runtime
        self.interval = interval
        self._clock = clock
        self._sizes: dict[str, int] = {}
        self._measured_at: float | None = None
        self._task: asyncio.Task | None = None

    @property
    def age(self) -> float | None:
        return None if self._measured_at is None else self._clock() - self._measured_at

    def sizes(self, names) -> dict[str, int | None]:
        """The last known size of each volume; starts a refresh when the answer is old."""
        stale = self._measured_at is None or self._clock() - self._measured_at >= self.interval
        if stale and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._refresh())
        return {n: self._sizes.get(n) for n in names}

    async def _refresh(self) -> None:
        try:
            self._sizes = await self.runtime.volume_sizes()
        except Exception as exc:  # the engine may be down: keep the last answer, try again later
            log.warning("volume sizes not refreshed: %s", exc)
        self._measured_at = self._clock()

    async def wait_for_refresh(self) -> None:
        """For tests and start-up: wait for the running refresh, if any."""
        if self._task is not None:
            await self._task


def volume_size_cache(handler) -> VolumeSizeCache:
    """The hub's one cache (its engine calls go through the runtime's statistics lane)."""
    platform = handler.platform
    return platform.shared("volume-sizes", lambda: VolumeSizeCache(platform.runtime))
