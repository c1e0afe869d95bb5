"""HTTP handlers: the restart and volume APIs and the per-user control page."""

from __future__ import annotations

from tornado import web

from .. import naming, policies
from ..web.base import StellarsAPIHandler, StellarsPageHandler
from ..web.errors import translate
from ..web.permissions import allowed, requires, requires_server
from ..web.ratelimit import RateLimiter
from ..web.servers import server_spawner
from ..web.volumesizes import volume_size_cache
from . import restart, state, volumes

RESET_SCOPE = "custom:volumes:reset"
READ_SCOPE = "custom:volumes:read"
READS_PER_MINUTE = 60  # manage-volumes GETs per caller


def server_volumes(volume_names: naming.VolumeNames, user, spawner) -> tuple[dict[str, str], tuple]:
    """(key -> volume name, the specs that may be reset) of one server. A named server sharing
    the default server's home never offers that home for reset."""
    shared_home = getattr(spawner, "shared_home", False)
    names = volume_names.server_volume_names(user.name, spawner.name, spawner.volume_specs, shared_home)
    specs = tuple(v for v in spawner.volume_specs if not (spawner.name and shared_home and v.key == "home"))
    return names, specs


class SelfServiceAPIHandler(StellarsAPIHandler):
    async def audited(self, user, action: str, work, outcome_detail, **audit_detail):
        """Exactly one audit line for ``work`` whatever happens: the frame of every destructive
        operation."""
        try:
            result = await work()
        except Exception as exc:
            mapped = exc if isinstance(exc, web.HTTPError) else translate(exc)
            if mapped is None:
                outcome = "error"
            else:
                outcome = f"{'refused' if mapped.status_code < 500 else 'failed'} {mapped.status_code}"
            reason = mapped.log_message if mapped is not None else str(exc)
            self.audit(user.name, action, outcome, reason=reason, **audit_detail)
            raise
        self.audit(user.name, action, "ok", **audit_detail, **outcome_detail(result))
        return result

    async def run_exclusive(self, user, action: str, work, outcome_detail, **audit_detail):
        """Rate limit, per-user lock, state checks inside ``work``, one audit line."""

        async def locked():
            restart.rate_limiter(self).hit(user.name)
            async with self.user_locks.exclusive(user.name, action):
                return await work()

        return await self.audited(user, action, locked, outcome_detail, **audit_detail)


class RestartServerAPIHandler(SelfServiceAPIHandler):
    @requires_server("read:servers")
    async def get(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        busy = self.user_locks.busy(user.name)
        progress = restart.PROGRESS.get(user.name) if busy == "restart-server" else None
        self.write_json(
            {
                "running": bool(progress),
                "progress": progress,
                "recreate": None if progress else await restart.outdated(self, spawner, fresh=False),
            }
        )

    @requires_server("servers")
    async def post(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        server_spawner(user, server_name)  # 404 for a server the user does not have
        result = await self.audited(
            user,
            "restart-server",
            lambda: restart.restart_server(self, user, server_name),
            lambda r: {"container_id": r["container_id"], "how": r["status"]},
            **({"server": server_name} if server_name else {}),
        )
        self.write_json(result)


class ManageVolumesAPIHandler(SelfServiceAPIHandler):
    @requires_server(READ_SCOPE, "admin:servers")
    async def get(self, user_name, server_name=""):
        # reads are cheap now (sizes from the cache) but still bounded per caller
        self.settings.setdefault("stellars_volume_read_limiter", RateLimiter(READS_PER_MINUTE, 60)).hit(
            self.current_user.name if self.current_user else self.request.remote_ip
        )
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        names, specs = server_volumes(self.platform.volume_names, user, spawner)
        listing = await volumes.describe(self.runtime, specs, names, sizes=volume_size_cache(self))
        sizes = [v["size_bytes"] for v in listing if v["exists"]]
        used = None if any(s is None for s in sizes) else sum(sizes)
        self.write_json(
            {
                "username": user.name,
                "server_active": bool(spawner.active),
                "server_pending": spawner.pending,
                "volumes": listing,
                "storage": await policies.storage_against_quota(self.platform, user, used),  # soft quota
            }
        )

    @requires_server(RESET_SCOPE, "admin:servers")
    async def delete(self, user_name, server_name=""):
        user = self.find_user_or_404(user_name)
        spawner = server_spawner(user, server_name)
        names, specs = server_volumes(self.platform.volume_names, user, spawner)
        keys = volumes.parse_selection(self.json_body(), specs)

        async def work():
            state.require_stopped(user, spawner)  # inside the lock: nobody can start it under us
            return await volumes.remove(self.runtime, keys, names)

        results = await self.run_exclusive(
            user,
            "reset-volumes",
            work,
            lambda rs: {"results": {r["volume"]: r["status"] for r in rs}},
            volumes=keys,
            **({"server": server_name} if server_name else {}),
        )
        complete = all(r["status"] in ("removed", "not_found") for r in results)
        self.write_json({"username": user.name, "complete": complete, "volumes": results})


class UserControlPage(StellarsPageHandler):
    """/hub/manage/{user}: restart and volumes for one user; for admins also rename and delete
    (with or without the volumes), which JupyterHub's admin panel cannot offer. Admins reach it
    from the form above the admin panel."""

    @web.authenticated
    @requires("read:servers")
    async def get(self, user_name):
        user = self.find_user(user_name)
        if user is None:
            raise web.HTTPError(404, f"no user named {user_name}")
        html = await self.render_template(
            "manage-user.html",
            target=user,
            target_spawner=user.spawner,
            may_rename=allowed(self, "admin:users", user.name),
            may_delete=allowed(self, "delete:users", user.name) and user.name != self.current_user.name,
            volume_names=list(self.platform.volume_names.user_volume_names(user.name, self.user_volume_specs).values()),
        )
        self.finish(html)
