"""Volume sizes from a cache refreshed in the background.

The engine's ``system df`` walks every volume on the disk; run per request it let anyone with a
token keep the engine (and the worker pool that restarts and resets use) busy, and a second one
while one runs fails ("a disk usage operation is already running"). Here it runs in the
runtime's statistics lane, at most once per ``interval`` seconds and only while someone asks,
one at a time for the whole hub: ``sizes`` reads the last answer and never waits (``None`` until
the first one arrives; Manage Volumes), ``measured`` waits for the one measurement in flight
when the last answer is older than the interval (storage against the quota).
"""

from __future__ import annotations

import asyncio
import logging
import time

from ..runtime.base import ContainerRuntime, EngineUnavailable, VolumeInfo

log = logging.getLogger(__name__)


class VolumeSizeCache:
    def __init__(self, runtime: ContainerRuntime, interval: float = 60.0, clock=time.monotonic):
        self.runtime = runtime
        self.interval = interval
        self._clock = clock
        self._sizes: dict[str, int] = {}
        self._measured_at: float | None = None
        self._succeeded = False  # at least one measurement came back
        self._error: Exception | None = None  # why the last one did not
        self._task: asyncio.Task | None = None

    @property
    def age(self) -> float | None:
        return None if self._measured_at is None else self._clock() - self._measured_at

    def _refresh_if_old(self) -> asyncio.Task | None:
        stale = self._measured_at is None or self._clock() - self._measured_at >= self.interval
        if stale and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._refresh())
        return self._task if self._task is not None and not self._task.done() else None

    def sizes(self, names) -> dict[str, int | None]:
        """The last known size of each volume; starts a refresh when the answer is old."""
        self._refresh_if_old()
        return {n: self._sizes.get(n) for n in names}

    async def measured(self) -> dict[str, int]:
        """Every measured volume's size, at most ``interval`` seconds old: waits for the hub's one
        measurement in flight (started now when the last answer is older). EngineUnavailable
        while no measurement has ever come back."""
        running = self._refresh_if_old()
        if running is not None:
            await asyncio.shield(running)
        if not self._succeeded:
            raise EngineUnavailable(f"volume sizes could not be measured ({self._error})")
        return dict(self._sizes)

    async def _refresh(self) -> None:
        try:
            self._sizes = await self.runtime.volume_sizes()
            self._succeeded, self._error = True, None
        except Exception as exc:  # the engine may be down: keep the last answer, try again later
            log.warning("volume sizes not refreshed: %s", exc)
            self._error = exc
        self._measured_at = self._clock()

    async def wait_for_refresh(self) -> None:
        """For tests and start-up: wait for the running refresh, if any."""
        if self._task is not None:
            await self._task


def volume_size_cache(handler) -> VolumeSizeCache:
    """The hub's one cache (its engine calls go through the runtime's statistics lane)."""
    return measured_volumes(handler.platform).cache


class MeasuredVolumes:
    """The runtime's ``volumes(names, with_sizes=True)`` answered from the hub's one size
    measurement: what storage-against-quota asks per request, at no engine call of its own. A
    volume the measurement does not list counts as absent (it is made when its lab first starts)."""

    def __init__(self, cache: VolumeSizeCache):
        self.cache = cache

    async def volumes(self, names: list[str], with_sizes: bool = False) -> dict[str, VolumeInfo]:
        sizes = await self.cache.measured()
        return {n: VolumeInfo(n, n in sizes, sizes.get(n)) for n in names}


def measured_volumes(platform) -> MeasuredVolumes:
    """Volume sizes for storage against quota, from the hub's one cache."""
    return MeasuredVolumes(platform.shared("volume-sizes", lambda: VolumeSizeCache(platform.runtime)))
