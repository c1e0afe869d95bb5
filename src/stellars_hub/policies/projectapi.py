"""The groups' project folders through the API (and the Policies page): list them with their
sizes, create one for a group (with an optional viewers group), change its viewers, remove one
(a kept folder of a deleted group, or an active one) with its volume. Admins, or tokens with the
policy scopes; every change is an audit line."""

from __future__ import annotations

import time

from jupyterhub import orm

from ..errors import BadRequest, Conflict, NotFound
from ..web.base import StellarsAPIHandler
from ..web.permissions import requires_global
from ..web.volumesizes import volume_size_cache
from . import projects
from .handlers import READ_ALLOWED, WRITE_ALLOWED, PolicyMixin


def lock_key(volume: str) -> str:
    """The operation lock of a project folder's volume (shared with its backups); a user name
    never holds "/", so it is no user's."""
    return f"volume/{volume}"


async def folder_models(handler, db) -> list[dict]:
    """Every folder for the API: its group, members, viewers, state and last measured size."""
    folders = await handler.policies.store.project_folders()
    sizes = volume_size_cache(handler).sizes([f["volume"] for f in folders])
    groups = {g.name: g for g in db.query(orm.Group).all()}
    found = []
    for f in folders:
        group = groups.get(f["group_name"]) if f["group_id"] is not None else None
        viewers = groups.get(f["viewers"]) if f["viewers"] else None
        found.append(
            {
                "group": f["group_name"],
                "volume": f["volume"],
                "target": projects.target(f["group_name"]),
                "kept": f["group_id"] is None,  # its group was deleted: mounted by nobody, kept
                "kept_since": f["kept_since"],
                "viewers": f["viewers"],
                "members": sorted(u.name for u in group.users) if group is not None else [],
                "viewer_members": sorted(u.name for u in viewers.users) if viewers is not None else [],
                "created": f["created"],
                "created_by": f["created_by"],
                "size_bytes": sizes.get(f["volume"]),
            }
        )
    return found


class ProjectMixin(PolicyMixin):
    def viewers_from(self, body, group) -> tuple[str | None, int | None]:
        if not isinstance(body, dict) or set(body) - {"viewers"}:
            raise BadRequest('body: expected {"viewers": "<group>"} or {"viewers": null}')
        name = body.get("viewers")
        if name in (None, ""):
            return None, None
        if not isinstance(name, str):
            raise BadRequest("viewers: the name of a group, or null")
        if name == group.name:
            raise BadRequest(f"viewers: {name} is the folder's own group, whose members have it read-write")
        viewers = orm.Group.find(self.db, name)
        if viewers is None:
            raise BadRequest(f"viewers: no group named {name!r}; create it in the admin panel (Groups) first")
        return viewers.name, viewers.id


class ProjectListAPIHandler(ProjectMixin, StellarsAPIHandler):
    @requires_global(*READ_ALLOWED, "admin:users")
    async def get(self):
        self.write_json({"folders": await folder_models(self, self.db)})


class GroupProjectAPIHandler(ProjectMixin, StellarsAPIHandler):
    @requires_global(*WRITE_ALLOWED)
    async def post(self, group_name):
        """Create the group's folder (its volume made at once, writable by every lab's user)."""
        target = f"group:{group_name}"
        group = self.find_group_or_404(group_name)
        try:
            projects.check_group_name(group.name)
            viewers, viewers_id = self.viewers_from(self.json_body() if self.request.body else {}, group)
            volume = await self._free_volume_name(group.name)
            folder = {
                "volume": volume,
                "group_name": group.name,
                "group_id": group.id,
                "viewers": viewers,
                "viewers_id": viewers_id,
                "created": time.time(),
                "created_by": self.current_user.name if self.current_user else "(token)",
                "kept_since": None,
            }
            await self.policies.store.create_project_folder(folder)
        except (BadRequest, Conflict) as exc:
            self.audit(
                target, "project-create", f"refused {400 if isinstance(exc, BadRequest) else 409}", reason=str(exc)
            )
            raise
        try:
            await self.policies.ensure_project_volumes([volume])
        except Exception as exc:
            # the record stays: the volume is made again before the next start that mounts it
            self.audit(target, "project-create", "failed", volume=volume, reason=str(exc))
            raise
        self.audit(target, "project-create", "ok", volume=volume, viewers=viewers)
        self.write_json(self._model(folder), status=201)

    @requires_global(*WRITE_ALLOWED)
    async def patch(self, group_name):
        """Change who views the folder read-only (applies at each viewer's next start)."""
        target = f"group:{group_name}"
        group = self.find_group_or_404(group_name)
        try:
            viewers, viewers_id = self.viewers_from(self.json_body(), group)
        except BadRequest as exc:
            self.audit(target, "project-viewers", "refused 400", reason=str(exc))
            raise
        before = await self.policies.store.set_project_viewers(group.name, group.id, viewers, viewers_id)
        if before is None:
            raise NotFound(f"group {group.name} has no project folder; create it first")
        self.audit(target, "project-viewers", "ok", volume=before["volume"], before=before["viewers"], after=viewers)
        self.write_json(self._model({**before, "viewers": viewers, "viewers_id": viewers_id}))

    def _model(self, folder: dict) -> dict:
        return {
            "group": folder["group_name"],
            "volume": folder["volume"],
            "target": projects.target(folder["group_name"]),
            "viewers": folder["viewers"],
            "kept": folder["group_id"] is None,
            "applies": "at each member's next start (Restart Server recreates a running lab)",
        }

    async def _free_volume_name(self, group: str) -> str:
        """The group's volume name, with a generation mark when a kept folder (or a volume the
        hub does not know, left from an earlier hub) has it: never someone else's files."""
        known = {f["volume"] for f in await self.policies.store.project_folders()}
        candidates = [projects.volume_name(group, n) for n in range(1, 21)]
        existing = await self.runtime.volumes(candidates)
        for name in candidates:
            if name not in known and not existing[name].exists:
                return name
        raise Conflict(f"group {group} has had too many project folders; remove kept ones first")


class ProjectAPIHandler(ProjectMixin, StellarsAPIHandler):
    @requires_global(*WRITE_ALLOWED)
    async def delete(self, volume):
        """Remove a folder and its volume for good (its backup archives stay in the target)."""
        folders = {f["volume"]: f for f in await self.policies.store.project_folders()}
        folder = folders.get(volume)
        if folder is None:
            raise NotFound(f"no project folder with the volume {volume!r}")
        target = f"group:{folder['group_name']}"
        async with self.user_locks.exclusive(lock_key(volume), "project-remove"):
            info = (await self.runtime.volumes([volume])).get(volume)
            if info is not None and info.used_by:
                self.audit(target, "project-remove", "refused 409", volume=volume, used_by=list(info.used_by))
                raise Conflict(
                    f"volume {volume} is used by {', '.join(info.used_by)}; stop those labs first, nothing was removed"
                )
            if info is not None and info.exists:
                await self.runtime.remove_volume(volume)
            await self.policies.store.forget_project_folder(volume)
        self.audit(target, "project-remove", "ok", volume=volume, kept=folder["group_id"] is None)
        self.write_json({"status": "removed", "volume": volume, "group": folder["group_name"]})
