"""REST API of the accounts feature.

- ``POST /hub/api/admin/credentials`` ``{"usernames": [...]}``: the generated passwords still in
  memory for those users (admins only; ``admin:users`` on every named user).
- ``DELETE /hub/api/admin/users/<name>`` ``{"remove_volumes": true|false}``: JupyterHub's user
  deletion (server stopped first, login record gone), then optionally the user's volumes.
  JupyterHub's own ``DELETE /hub/api/users/<name>`` keeps the volumes.
- ``GET /hub/api/admin/kept-volumes``: volumes kept from deleted users (admins only);
  ``DELETE /hub/api/admin/kept-volumes/<id>`` removes one deleted user's set for good.
"""

from __future__ import annotations

from jupyterhub.utils import maybe_future

from .. import naming
from ..runtime.base import NotFound, RuntimeConflict
from ..web.base import StellarsAPIHandler
from ..web.errors import api_errors, http_error
from ..web.jsonbody import reject_unknown
from ..web.permissions import holds_globally, requires
from ..web.volumesizes import volume_size_cache
from . import adminguard, volumemap


class CredentialsAPIHandler(StellarsAPIHandler):
    @api_errors
    async def post(self):
        self.set_header("Cache-Control", "no-store")
        # generated passwords are an admin's business: a filtered admin:users does not reach them
        if not holds_globally(self, "admin:users"):
            who = self.current_user.name if self.current_user else "anonymous requests"
            raise http_error(403, f"{who} may not see generated passwords (needs scope admin:users)")
        body = self.json_body()
        reject_unknown(body, ("usernames",))
        names = body.get("usernames") if isinstance(body, dict) else None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise http_error(400, 'the body must be a JSON object like {"usernames": ["ann", "bob"]}')
        found = self.authenticator.credentials.get(names)
        have = {c["username"] for c in found}
        self.audit(",".join(names), "read-generated-passwords", "ok", returned=sorted(have))
        self.write_json({
            "credentials": found,
            "expired": [n for n in dict.fromkeys(names) if n not in have],
            "ttl": self.authenticator.credentials.ttl,
        })


class DeleteUserAPIHandler(StellarsAPIHandler):
    @requires("delete:users")
    @api_errors
    async def delete(self, user_name):
        user = self.find_user_or_404(user_name)
        body = self.json_body() if self.request.body else {}
        reject_unknown(body, ("remove_volumes",))
        remove = body.get("remove_volumes", False) if isinstance(body, dict) else None
        if not isinstance(remove, bool):
            raise http_error(400, 'the body must be a JSON object like {"remove_volumes": true}')
        adminguard.refuse_if_protected(self.authenticator, user.name, "deleted")
        if self.current_user is not None and user.name == self.current_user.name:
            raise http_error(400, "you cannot delete yourself; ask another admin")
        async with self.user_locks.exclusive(user.name, "delete-user"):
            volumes = naming.user_volume_names(user.name)
            base = naming.volume_base(user.name)
            try:
                await self._delete(user)
            except Exception as exc:
                self.audit(user.name, "delete-user", "error", reason=str(exc), remove_volumes=remove)
                raise
            results = await self._remove_volumes(volumes, base) if remove else []
        self.audit(user.name, "delete-user", "ok", remove_volumes=remove,
                   volumes={r["name"]: r["status"] for r in results})
        self.write_json({"username": user.name, "remove_volumes": remove,
                         "volumes": results or [{"key": k, "name": n, "status": "kept"} for k, n in volumes.items()]})

    async def _delete(self, user) -> None:
        # the same steps as JupyterHub's DELETE /api/users/<name>
        if user.spawner._stop_pending:
            raise http_error(409, f"{user.name}'s server is stopping; try again in a moment")
        if user.running or user.spawner.active:
            await self.stop_single_user(user)
            if user.spawner._stop_pending:
                raise http_error(409, f"{user.name}'s server is still stopping; try again in a moment")
        await maybe_future(self.authenticator.delete_user(user))
        await user.delete_spawners()
        self.users.delete(user)

    async def _remove_volumes(self, volumes: dict[str, str], base: str) -> list[dict]:
        return await remove_volume_set(self.runtime, self.db, volumes, base)


async def remove_volume_set(runtime, db, volumes: dict[str, str], base: str) -> list[dict]:
    """Remove a (deleted) user's volumes; once none is left, their base is free again."""
    info = await runtime.volumes(list(volumes.values()))
    results = []
    for key, name in volumes.items():
        status = "not_found"
        if info[name].exists:
            try:
                await runtime.remove_volume(name)
                status = "removed"
            except NotFound:
                status = "not_found"
            except RuntimeConflict as exc:
                results.append({"key": key, "name": name, "status": "in_use", "error": str(exc)})
                continue
        results.append({"key": key, "name": name, "status": status})
    if all(r["status"] != "in_use" for r in results):
        volumemap.forget_deleted(db, base)  # nothing of theirs is left: the name is free
    return results


class KeptVolumesAPIHandler(StellarsAPIHandler):
    """Volume sets of deleted users: listed, and removed one at a time by their id."""

    def _require_admin(self) -> None:
        if not holds_globally(self, "admin:users"):
            raise http_error(403, "only admins (scope admin:users on every user) manage deleted users' volumes")

    @api_errors
    async def get(self, set_id=None):
        self._require_admin()
        if set_id is not None:
            raise http_error(405, "GET /hub/api/admin/kept-volumes lists every set; one set is only deleted")
        sets = volumemap.kept_volume_sets(self.db)
        names = [n for vs in sets for n in naming.volume_names_for_base(vs.base).values()]
        info = await self.runtime.volumes(names) if names else {}
        sizes = volume_size_cache(self).sizes(names)
        kept = []
        for vs in sets:
            vols = [{"key": k, "name": n, "exists": info[n].exists, "size_bytes": sizes[n]}
                    for k, n in naming.volume_names_for_base(vs.base).items()]
            kept.append({"id": vs.id, "deleted_name": vs.deleted_name, "deleted_at": vs.deleted_at, "volumes": vols})
        self.write_json({"kept": kept})

    @api_errors
    async def delete(self, set_id=None):
        self._require_admin()
        if set_id is None:
            raise http_error(405, "delete one set at a time: DELETE /hub/api/admin/kept-volumes/<id>")
        vs = next((v for v in volumemap.kept_volume_sets(self.db) if str(v.id) == set_id), None)
        if vs is None:
            raise http_error(404, f"no kept volumes with id {set_id}; GET /hub/api/admin/kept-volumes lists them")
        base, who = vs.base, vs.deleted_name
        async with self.user_locks.exclusive(f"kept-volumes:{base}", "remove-kept-volumes"):
            results = await remove_volume_set(self.runtime, self.db, naming.volume_names_for_base(base), base)
        self.audit(who or base, "remove-kept-volumes", "ok", volumes={r["name"]: r["status"] for r in results})
        self.write_json({"deleted_name": who, "volumes": results})
