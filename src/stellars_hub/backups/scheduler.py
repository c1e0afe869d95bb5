"""The backup schedule: a task on the hub's loop that runs a round every
``JUPYTERHUB_BACKUP_INTERVAL`` seconds. A round backs up each user's existing volumes one after
another (the engine work runs in containers, waited on in the runtime's threads, so the hub
never blocks), each under the user's operation lock, so resets and restores never meet it; then
the volumes of no single user (the shared volume, what features declare: ``Feature.backup_volumes``,
the groups' project folders among them) and last the hub's own state (``hubstate``), whose manifest
names every volume's newest archive."""

from __future__ import annotations

import asyncio
import inspect
import logging
import shutil
import time
from datetime import datetime, timezone
from typing import Any, cast

from jupyterhub import orm

from .. import naming
from ..feature import BackupVolume
from ..lab.config import NamedServers
from ..lab.mixin import LabSpawnerMixin
from ..platform import Platform
from ..web.errors import Busy
from ..web.locks import UserLocks
from . import hubstate
from .config import Backups
from .jobs import BackupJobs
from .store import store_for

log = logging.getLogger("JupyterHub.backups")
PROJECTS = "group/"  # results of a group's project folder are kept under "group/<group>"


def scheduler_for(platform: Platform) -> BackupScheduler:
    """The hub's one scheduler, held by its platform."""
    return platform.shared(
        "backup-scheduler",
        lambda: BackupScheduler(
            platform.settings, store_for(platform), platform.runtime, platform.volume_names, platform=platform
        ),
    )


HUB = ""  # the results' "user" of what belongs to no single user (the state, shared volumes)
SHARED_LOCK = "(shared volumes)"  # the operation lock of the shared volume's backup: no user's name


def configured_shared_volume(app) -> str | None:
    """The shared volume's name as the hub's spawner class is configured (None: its labs mount
    none), read from the hub's configuration as traitlets would give it to a spawner."""
    cls = getattr(app, "spawner_class", None)
    if not isinstance(cls, type) or not issubclass(cls, LabSpawnerMixin):
        return None
    value = cls.class_traits()["shared_volume"].default()
    for section in cls.section_names():  # base classes first: the most derived one wins
        if section in app.config and "shared_volume" in app.config[section]:
            value = app.config[section]["shared_volume"]
    return value or None


class BackupScheduler:
    def __init__(self, settings, store, runtime=None, names: naming.VolumeNames | None = None, platform=None):
        self.backups = settings(Backups)
        self.shared_home = settings(NamedServers).shared_home
        self.store = store
        self.names = names or naming.VolumeNames()  # the hub's: it knows renamed users
        # the hub's one runtime: its backup containers run in a lane of their own, so restarts
        # never wait for a backup
        self.runtime = runtime if runtime is not None else Platform.current().runtime
        self.jobs = BackupJobs(self.runtime, self.backups.image, self.backups.target)
        self.platform: Platform | None = platform  # its features' volumes and stores, its data directory
        self.app: Any = None  # the hub, once it serves: its database URL, its spawners' configuration
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
        for item in await self.hub_volumes():
            owner = PROJECTS + item.group if item.group else HUB  # whose results they are
            try:
                existing = (await self.runtime.volumes([item.volume])).get(item.volume)
            except Exception as exc:
                await self.store.record(item.volume, owner, item.key, time.time(), "failed", error=str(exc))
                counts["failed"] += 1
                continue
            if existing is None or not existing.exists:
                continue
            try:
                if item.lock is None:
                    counts[await self.backup_volume(owner, item.key, item.volume)] += 1
                else:
                    async with cast(UserLocks, self.locks).exclusive(item.lock, "backup"):
                        counts[await self.backup_volume(owner, item.key, item.volume)] += 1
            except Busy as exc:
                await self.store.record(item.volume, owner, item.key, time.time(), "busy", error=str(exc))
                counts["busy"] += 1
        if self.platform is not None:
            counts[await self.backup_state()] += 1
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

    async def hub_volumes(self) -> list[BackupVolume]:
        """The shared volume and the volumes the features declare (``Feature.backup_volumes``)."""
        found: list[BackupVolume] = []
        shared = configured_shared_volume(self.app) if self.app is not None else None
        if shared:
            found.append(BackupVolume(shared, "shared", SHARED_LOCK))
        for feature in self.platform.features if self.platform is not None else ():
            if feature.backup_volumes is None:
                continue
            try:
                items = feature.backup_volumes(self.platform)
                if inspect.isawaitable(items):
                    items = await items
            except Exception:  # one feature's failure must not cost the others their backups
                log.exception("backup volumes of feature %s could not be listed", feature.name)
                continue
            found.extend(i for i in items if i.volume not in {f.volume for f in found})
        return found

    async def backup_state(self) -> str:
        """The hub's state into the target: its database, every store, the data directory's other
        files, with the newest archive of every volume in the manifest; unchanged since the last
        archive (same content, archive still there): nothing written."""
        platform = cast(Platform, self.platform)  # a round backs up the state only in a hub
        now = time.time()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        staging = platform.data_dir / ".backup-staging"
        try:
            db_url = getattr(self.app, "db_url", "") or f"sqlite:///{platform.data_dir / 'jupyterhub.sqlite'}"
            volumes = {r["volume"]: r["archive"] for r in await self.store.all() if r["archive"]}
            snap = await asyncio.to_thread(
                hubstate.snapshot,
                platform.data_dir,
                staging,
                platform.stores.opened(),
                hubstate.describe_database(db_url, platform.data_dir),
                volumes,
            )
            prev = await self.store.get(hubstate.STATE) or {}
            if prev.get("fingerprint") == snap.fingerprint and prev.get("archive"):
                listed = (await self.jobs.generations([hubstate.STATE]))[hubstate.STATE]
                if any(g["archive"] == prev["archive"] for g in listed):
                    await self.store.record(
                        hubstate.STATE, HUB, "state", now, "unchanged", fingerprint=snap.fingerprint
                    )
                    return "unchanged"
            out = await self.jobs.backup_file(hubstate.STATE, snap.path, self.backups.keep, stamp)
        except Exception as exc:
            log.warning("backup of the hub's state failed: %s", exc)
            await self.store.record(hubstate.STATE, HUB, "state", now, "failed", error=str(exc) or type(exc).__name__)
            return "failed"
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, True)
        await self.store.record(
            hubstate.STATE,
            HUB,
            "state",
            now,
            "ok",
            archive=out.archive,
            size_bytes=out.size_bytes,
            fingerprint=snap.fingerprint,
        )
        return "ok"

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
    scheduler.app = app
    scheduler.db = app.db
    scheduler.platform = platform
    scheduler.locks = platform.locks  # the same per-user locks as restart and reset
    if scheduler.enabled:
        await scheduler.run()
