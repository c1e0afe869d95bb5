"""The backup schedule: a task on the hub's loop that runs a round every
``JUPYTERHUB_BACKUP_INTERVAL`` seconds. A round backs up each user's existing volumes one after
another (the engine work runs in containers, waited on in the runtime's threads, so the hub
never blocks), each under the user's operation lock, so resets and restores never meet it."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any, cast

from jupyterhub import orm

from .. import naming
from ..lab.config import NamedServers
from ..platform import Platform
from ..web.errors import Busy
from ..web.locks import UserLocks
from .config import Backups
from .jobs import BackupJobs
from .store import store_for

log = logging.getLogger("JupyterHub.backups")


def scheduler_for(platform: Platform) -> BackupScheduler:
    """The hub's one scheduler, held by its platform."""
    return platform.shared(
        "backup-scheduler",
        lambda: BackupScheduler(platform.settings, store_for(platform), platform.runtime, platform.volume_names),
    )


class BackupScheduler:
    def __init__(self, settings, store, runtime=None, names: naming.VolumeNames | None = None):
        self.backups = settings(Backups)
        self.shared_home = settings(NamedServers).shared_home
        self.store = store
        self.names = names or naming.VolumeNames()  # the hub's: it knows renamed users
        # the hub's one runtime: its backup containers run in a lane of their own, so restarts
        # never wait for a backup
        self.runtime = runtime if runtime is not None else Platform.current().runtime
        self.jobs = BackupJobs(self.runtime, self.backups.image, self.backups.target)
        self.db: Any = None  # the hub's ORM session, once the hub serves
        self.locks: UserLocks | None = None
        self.round: asyncio.Task | None = None
        self.last_round: dict | None = None

    @property
    def enabled(self) -> bool:
        return self.backups.interval > 0

    def start_round(self) -> bool:
        """Start a round now unless one runs; False when one is running."""
        if self.round is not None and not self.round.done():
            return False
        self.round = asyncio.ensure_future(self.run_round())
        return True

    async def run_round(self) -> dict:
        started = time.time()
        counts = {"ok": 0, "unchanged": 0, "failed": 0, "busy": 0}
        users = [name for (name,) in self.db.query(orm.User.name).order_by(orm.User.name)]
        servers: dict[str, list[str]] = {}  # user -> names of their named servers (each has its own volumes)
        for user_name, server in (
            self.db.query(orm.User.name, orm.Spawner.name)
            .join(orm.Spawner, orm.Spawner.user_id == orm.User.id)
            .filter(orm.Spawner.name != "")
        ):
            servers.setdefault(user_name, []).append(server)
        shared_home = self.shared_home
        for user in users:
            volumes = dict(self.names.user_volume_names(user))
            for server in sorted(servers.get(user, [])):  # keys like "alpha/workspace"
                for key, vol in self.names.server_volume_names(user, server, shared_home=shared_home).items():
                    if vol not in volumes.values():
                        volumes[f"{server}/{key}"] = vol
            try:
                existing = await self.runtime.volumes(list(volumes.values()))
            except Exception as exc:  # engine down: every volume of the user fails visibly
                existing = {}
                for key, vol in volumes.items():
                    await self.store.record(vol, user, key, time.time(), "failed", error=str(exc))
                    counts["failed"] += 1
                continue
            todo = [(k, v) for k, v in volumes.items() if existing.get(v) and existing[v].exists]
            if not todo:
                continue
            # one volume at a time under the user's operation lock: a reset or restore never
            # meets a backup (and a backup never mounts, so creates, a volume just removed);
            # between volumes the lock is free: a restart meanwhile is refused (409, "backup is
            # already running") for at most one volume's backup
            for key, vol in todo:
                try:
                    async with cast(UserLocks, self.locks).exclusive(user, "backup"):
                        still = (await self.runtime.volumes([vol])).get(vol)
                        if still is None or not still.exists:
                            continue  # removed by a reset since the round began
                        counts[await self.backup_volume(user, key, vol)] += 1
                except Busy as exc:
                    await self.store.record(vol, user, key, time.time(), "busy", error=str(exc))
                    counts["busy"] += 1
        self.last_round = {"started": started, "finished": time.time(), **counts}
        log.info("backup round: %s", self.last_round)
        return self.last_round

    async def backup_volume(self, user: str, key: str, vol: str) -> str:
        prev = await self.store.get(vol) or {}
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        now = time.time()
        try:
            out = await self.jobs.backup(
                vol,
                prev.get("fingerprint") or "",
                prev.get("archive") or "",
                self.backups.keep,
                stamp,
            )
        except Exception as exc:
            log.warning("backup of %s failed: %s", vol, exc)
            await self.store.record(vol, user, key, now, "failed", error=str(exc) or type(exc).__name__)
            return "failed"
        outcome = "ok" if out.archive else "unchanged"
        await self.store.record(
            vol,
            user,
            key,
            now,
            outcome,
            archive=out.archive,
            size_bytes=out.size_bytes,
            fingerprint=out.fingerprint,
        )
        return outcome

    async def run(self) -> None:
        interval = self.backups.interval
        log.info("scheduled backups every %s s into %s", interval, self.backups.target)
        while True:
            began = time.monotonic()
            if self.start_round() or self.round is not None:
                try:
                    await asyncio.shield(cast(asyncio.Task, self.round))  # started or running
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("backup round failed")
            await asyncio.sleep(max(1.0, interval - (time.monotonic() - began)))


async def run(platform: Platform, app) -> None:
    """The backups feature's background work: the schedule, once the hub serves requests."""
    scheduler = scheduler_for(platform)
    scheduler.db = app.db
    scheduler.locks = platform.locks  # the same per-user locks as restart and reset
    if scheduler.enabled:
        await scheduler.run()
