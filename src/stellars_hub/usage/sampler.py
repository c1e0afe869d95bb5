"""The usage recorder: a sampler task on the hub's loop, and the spawner hooks that record
server starts and stops. One per hub, held by the hub's platform (``recorder_for``).

Each pass reads the running servers from the hub's ORM session (read-only), asks the engine for
their CPU and memory (in the runtime's threads), and writes one pass to usage.sqlite through the
store's own thread. Volume sizes are measured at most every STORAGE_EVERY seconds (the engine
walks every volume for them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

from jupyterhub import orm

from .. import naming
from ..activity.config import ActivityMonitor
from ..runtime import ContainerRuntime
from .config import Usage
from .store import ServerSample, UsageStore, store_for

log = logging.getLogger("JupyterHub.usage")

STORAGE_EVERY = 3600.0
GAP_FACTOR = 2.0  # a pass more than this many intervals after the previous one follows downtime


def recorder_for(platform) -> UsageRecorder:
    """The hub's one recorder, held by its platform."""
    return platform.shared(
        "usage-recorder",
        lambda: UsageRecorder(platform.settings, store_for(platform), platform.runtime, platform.volume_names),
    )


def container_for(username: str, server: str) -> str:
    return naming.server_container_name(username, server)


class UsageRecorder:
    def __init__(
        self,
        settings,
        store: UsageStore,
        runtime: ContainerRuntime | None = None,
        names: naming.VolumeNames | None = None,
    ):
        self.names = names or naming.VolumeNames()  # the hub's: it knows renamed users
        self.config = settings(Usage)
        self.inactive_after_seconds = settings(ActivityMonitor).inactive_after * 60  # "active" as the monitor says
        self.store = store
        self._runtime = runtime
        self._db = None
        self._last_pass: float | None = None
        self._last_storage: float | None = None
        self.passes = 0
        self._storage_due: set[str] = set()  # users whose server stopped: measure at the next pass

    @property
    def interval(self) -> int:
        return self.config.sample_interval

    @property
    def runtime(self) -> ContainerRuntime:
        if self._runtime is None:
            from ..platform import Platform

            self._runtime = Platform.current().runtime  # the hub's one runtime
        return self._runtime

    # -- spawner hooks (hub loop; the write is queued on the store's thread) -----------------
    def server_starting(self, spawner) -> None:
        self.store.record_event(spawner.user.name, spawner.name or "", "start", time.time())  # not awaited

    def server_stopped(self, spawner) -> None:
        self.store.record_event(spawner.user.name, spawner.name or "", "stop", time.time())
        self._storage_due.add(spawner.user.name)  # what the session left on the volumes

    # -- sampling -----------------------------------------------------------------------------
    def running_servers(self, db) -> list[tuple[str, str, datetime | None]]:
        rows = (
            db.query(orm.User.name, orm.Spawner.name, orm.Spawner.last_activity)
            .join(orm.Spawner, orm.Spawner.user_id == orm.User.id)
            .filter(orm.Spawner.server_id.isnot(None))
            .all()
        )
        return [(user, server or "", last) for user, server, last in rows]

    async def sample_once(self, db=None, now: float | None = None) -> int:
        db = db or self._db
        now = time.time() if now is None else now
        if self._last_pass is None:
            self._last_pass = await self.store.last_pass()
        gap = now - self._last_pass if self._last_pass is not None else None
        # after downtime (or at the very first pass) a pass stands for one interval only
        span = gap if gap is not None and 0 < gap <= GAP_FACTOR * self.interval else float(self.interval)
        servers = self.running_servers(db)
        names = {(u, s): container_for(u, s) for u, s, _ in servers}
        stats = await self.runtime.container_stats(list(names.values())) if names else {}
        inactive_after = self.inactive_after_seconds
        now_naive = datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)
        samples = []
        for user, server, last in servers:
            st = stats.get(names[(user, server)])
            active = last is not None and (now_naive - last).total_seconds() <= inactive_after
            samples.append(
                ServerSample(user, server, active, st.cpu_percent if st else None, st.memory_bytes if st else None)
            )
        prune = now - self.config.retention_days * 86400
        await self.store.record_pass(now, span, samples, prune)
        self._last_pass = now
        if self._last_storage is None or now - self._last_storage >= STORAGE_EVERY:
            await self.measure_storage(db, now)
        elif self._storage_due:
            await self.measure_storage(db, now, set(self._storage_due))
        self.passes += 1
        return len(samples)

    async def measure_storage(self, db, now: float, only: set[str] | None = None) -> None:
        users = [name for (name,) in db.query(orm.User.name).all() if only is None or name in only]
        self._storage_due -= set(users)
        volumes = {u: list(self.names.user_volume_names(u).values()) for u in users}
        info = await self.runtime.volumes([v for vs in volumes.values() for v in vs], with_sizes=True)
        sizes = []
        for user, names in volumes.items():
            known = [size for v in names if v in info and info[v].exists and (size := info[v].size_bytes) is not None]
            if known:
                sizes.append((user, sum(known)))
        await self.store.record_storage(now, sizes)
        if only is None:
            self._last_storage = now

    async def run(self) -> None:
        log.info("usage recorder running: every %s s, records in %s", self.interval, self.store.path)
        while True:
            started = time.monotonic()
            try:
                await self.sample_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # one failed pass must not end recording for the hub's lifetime
                log.exception("usage pass failed")
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))


async def run(platform, app) -> None:
    """The usage feature's background work: the sampler, once the hub serves requests."""
    recorder = recorder_for(platform)
    recorder._db = app.db
    await recorder.run()
