"""Backups API: the admin overview, a user's backups with their generations, restore, run now;
and the admin page."""

from __future__ import annotations

from datetime import datetime, timezone

from jupyterhub.scopes import has_scope
from tornado import web

from .. import naming
from ..lab.config import NamedServers
from ..selfservice import require_stopped
from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import requires, requires_global
from .config import Backups
from .jobs import JobFailed
from .scheduler import HUB, PROJECTS, scheduler_for

READ_SCOPE = "custom:backups:read"
RESTORE_SCOPE = "custom:backups:restore"
ADMIN_READ = "admin:users"
ADMIN_RESTORE = "admin:servers"


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def public(row: dict) -> dict:
    return {
        "key": row["key"],
        "volume": row["volume"],
        "last_run": iso(row["last_run"]),
        "outcome": row["outcome"],
        "error": row["error"],
        "archive": row["archive"],
        "size_bytes": row["size_bytes"],
        "last_backup": iso(row["last_ok"]),
    }


def volume_names(names: naming.VolumeNames, user, shared_home: bool) -> dict[str, str]:
    """key -> volume of the user's default server, and "<server>/<key>" for named servers."""
    found = dict(names.user_volume_names(user.name))
    for server in sorted(n for n in user.orm_spawners if n):
        for key, vol in names.server_volume_names(user.name, server, shared_home=shared_home).items():
            if vol not in found.values():
                found[f"{server}/{key}"] = vol
    return found


class BackupsMixin(HandlerMixin):
    @property
    def scheduler(self):
        return scheduler_for(self.platform)

    def config(self) -> dict:
        backups = self.configured(Backups)
        return {
            "enabled": backups.interval > 0,
            "interval_seconds": backups.interval,
            "target": backups.target,
            "keep": backups.keep,
        }


class BackupsOverviewAPIHandler(BackupsMixin, StellarsAPIHandler):
    @requires_global(READ_SCOPE, ADMIN_READ)
    async def get(self):
        rows = await self.scheduler.store.all()
        users: dict[str, list] = {}
        hub: list = []  # the hub's state and the shared volume: no single user's
        projects: dict[str, list] = {}  # the groups' project folders
        for row in rows:
            if row["username"] == HUB:
                hub.append(public(row))
            elif row["username"].startswith(PROJECTS):
                projects.setdefault(row["username"][len(PROJECTS) :], []).append(public(row))
            else:
                users.setdefault(row["username"], []).append(public(row))
        last = self.scheduler.last_round
        self.write_json(
            {
                **self.config(),
                "running": self.scheduler.round is not None and not self.scheduler.round.done(),
                "last_round": None
                if last is None
                else {**last, "started": iso(last["started"]), "finished": iso(last["finished"])},
                "hub": hub,
                "users": [{"username": u, "volumes": v} for u, v in sorted(users.items())],
                "projects": [{"group": g, "volumes": v} for g, v in sorted(projects.items())],
            }
        )


class BackupsRunAPIHandler(BackupsMixin, StellarsAPIHandler):
    @requires_global(ADMIN_RESTORE)
    async def post(self):
        if not self.scheduler.enabled:
            raise http_error(409, "scheduled backups are off (JUPYTERHUB_BACKUP_INTERVAL=0)")
        if self.scheduler.db is None:
            raise http_error(503, "the backup scheduler is not ready yet; try again in a moment")
        if not self.scheduler.start_round():
            raise http_error(409, "a backup round is already running")
        self.audit("*", "backup-round", "started")
        self.write_json({"started": True}, status=202)


class UserBackupsAPIHandler(BackupsMixin, StellarsAPIHandler):
    @requires(READ_SCOPE, ADMIN_READ)
    async def get(self, user_name):
        user = self.find_user_or_404(user_name)
        rows = {r["key"]: r for r in await self.scheduler.store.of_user(user.name)}
        names = volume_names(self.platform.volume_names, user, self.configured(NamedServers).shared_home)
        gens = {}
        if self.get_argument("generations", "1") != "0" and self.config()["enabled"]:
            try:
                gens = await self.scheduler.jobs.generations(list(names.values()))
            except JobFailed as exc:
                raise http_error(503, f"the backup target could not be read: {exc}") from None
        volumes = []
        for key, vol in names.items():
            row = (
                public(rows[key])
                if key in rows
                else {
                    "key": key,
                    "volume": vol,
                    "last_run": None,
                    "outcome": None,
                    "error": None,
                    "archive": None,
                    "size_bytes": None,
                    "last_backup": None,
                }
            )
            volumes.append({**row, "generations": gens.get(vol, [])})
        done = [v["last_backup"] for v in volumes if v["last_backup"]]
        self.write_json(
            {
                "username": user.name,
                **self.config(),
                "volumes": volumes,
                # by then every volume backed up so far was safe
                "last_backup": min(done) if done else None,
                "failed": [v["key"] for v in volumes if v["outcome"] == "failed"],
            }
        )


class RestoreAPIHandler(BackupsMixin, StellarsAPIHandler):
    @requires(RESTORE_SCOPE, ADMIN_RESTORE)
    async def post(self, user_name):
        user = self.find_user_or_404(user_name)
        body = self.json_body()
        if not isinstance(body, dict) or set(body) - {"volume", "archive"}:
            raise http_error(400, 'body: expected {"volume": "home|workspace|cache", "archive": "<file name>"}')
        names = volume_names(self.platform.volume_names, user, self.configured(NamedServers).shared_home)
        key, archive = body.get("volume"), body.get("archive")
        if key not in names:
            raise http_error(400, f"volume: {key!r} is not one of {', '.join(names)}")
        if not isinstance(archive, str) or not archive:
            raise http_error(400, "archive: expected the file name of one of the volume's generations")
        volume = names[key]
        try:
            # only a name from the target's own listing reaches the restore container
            gens = (await self.scheduler.jobs.generations([volume], fresh=True))[volume]
            if archive not in {g["archive"] for g in gens}:
                raise http_error(404, f"archive: {archive!r} is not a backup of {volume} in the target")
            async with self.user_locks.exclusive(user.name, "backup-restore"):
                server = key.split("/")[0] if "/" in key else ""
                require_stopped(user, user.spawners[server])
                used = (await self.runtime.volumes([volume])).get(volume)
                if used is not None and used.used_by:
                    raise http_error(409, f"volume {volume} is used by {', '.join(used.used_by)}; stop it first")
                await self.scheduler.jobs.restore(archive, volume)
        except Exception as exc:
            reason = getattr(exc, "log_message", None) or str(exc)
            self.audit(user.name, "backup-restore", "failed", volume=volume, archive=archive, reason=reason)
            if isinstance(exc, JobFailed):
                raise http_error(500, f"the restore failed: {exc}") from None
            raise
        self.audit(user.name, "backup-restore", "ok", volume=volume, archive=archive)
        self.write_json({"status": "restored", "volume": volume, "archive": archive})


class BackupsPage(BackupsMixin, StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not any(has_scope(s, self.parsed_scopes, db=self.db) for s in (READ_SCOPE, ADMIN_READ)):
            raise web.HTTPError(403, "Only administrators may see the backups")
        self.finish(
            await self.render_template(
                "backups.html", backups=self.config(), may_run=has_scope(ADMIN_RESTORE, self.parsed_scopes, db=self.db)
            )
        )
