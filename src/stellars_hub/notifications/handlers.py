"""HTTP handlers: active servers, broadcast, history, and the admin page."""

from __future__ import annotations

from tornado import web

from ..web.base import StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import requires_global
from . import broadcast, validation
from .config import Notifications
from .history import HistoryStore, store_for

BROADCAST_SCOPE = "custom:notifications:broadcast"
# admins hold admin:servers; JupyterHub's admin role cannot be given the custom scope
ALLOWED = (BROADCAST_SCOPE, "admin:servers")


def history_store(platform) -> HistoryStore:
    return store_for(platform)


def _iso(dt):
    return dt.isoformat(timespec="seconds") + "Z" if dt else None  # the hub stores naive UTC


class ActiveServersAPIHandler(StellarsAPIHandler):
    @requires_global(*ALLOWED)
    async def get(self):
        servers = [
            {
                "username": u.name,
                "server": sp.name,  # '' = the default server
                "started": _iso(sp.orm_spawner.started),
                "last_activity": _iso(sp.orm_spawner.last_activity),
            }
            for u, sp in broadcast.running_labs(self.db, self.users)
        ]
        self.write_json({"total": len(servers), "servers": servers})


class BroadcastAPIHandler(StellarsAPIHandler):
    @requires_global(*ALLOWED)
    async def post(self):
        wanted = validation.parse(self.json_body())
        targets = broadcast.recipients(self.db, self.users, wanted)
        store = history_store(self.platform)
        # recorded before it is sent: a broadcast that reached the labs is always in the history
        # (a store that cannot be written refuses it here, 507 or 503, and nothing is sent)
        saved = await store.begin(
            self.current_user.name if self.current_user else "(service)",
            wanted.message,
            wanted.kind,
            wanted.auto_close,
            wanted.recipients is not None,
            len(targets),
        )
        result = await broadcast.send(targets, wanted, timeout=self.configured(Notifications).timeout)
        try:
            await store.finish(saved["id"], result["details"])
            recorded = None
        except Exception as exc:  # sent all the same: say so, so that nobody sends it again
            recorded = f"sent, but its results could not be recorded ({exc}); the history shows it as sending"
        self.audit(
            "selected users" if wanted.recipients else "all running labs",
            "broadcast",
            "ok",
            id=saved["id"],
            type=wanted.kind,
            total=result["total"],
            successful=result["successful"],
            failed=result["failed"],
            **({"warning": recorded} if recorded else {}),
        )
        self.write_json({**result, **saved, **({"warning": recorded} if recorded else {})})


class HistoryAPIHandler(StellarsAPIHandler):
    @requires_global(*ALLOWED)
    async def get(self):
        raw = self.get_argument("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= 500:
            raise http_error(400, "limit: a whole number from 1 to 500")
        self.write_json({"broadcasts": await history_store(self.platform).list(int(raw))})


class NotificationsPage(StellarsPageHandler):
    @web.authenticated
    @requires_global(*ALLOWED)
    async def get(self):
        html = await self.render_template(
            "notifications.html",
            max_length=validation.MAX_LENGTH,
            types=validation.TYPES,
            default_type=validation.DEFAULT_TYPE,
            timeout=self.configured(Notifications).timeout,
        )
        self.finish(html)
