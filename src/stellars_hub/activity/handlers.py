"""HTTP handlers: the activity API, its reset, and the admin page."""

from __future__ import annotations

from tornado import web

from ..session.config import IdleCuller
from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import holds_globally
from .monitor import Monitor, monitor_for

READ_SCOPE = "custom:activity:read"
RESET_SCOPE = "custom:activity:reset"
# JupyterHub's admin role cannot be extended with custom scopes, so admins are recognised by a
# built-in admin scope (see web/scopes.py)
ADMIN_SCOPE = "admin:users"


def may(handler, scope: str) -> bool:
    return holds_globally(handler, scope, ADMIN_SCOPE)


class ActivityMixin(HandlerMixin):
    @property
    def monitor(self) -> Monitor:
        return monitor_for(self.platform)

    def require(self, scope: str) -> None:
        if not may(self, scope):
            who = self.current_user.name if self.current_user else "anonymous requests"
            raise http_error(
                403,
                f"{who} may not see the activity monitor (needs scope {scope} or {ADMIN_SCOPE}); ask an administrator",
            )


class ActivityAPIHandler(ActivityMixin, StellarsAPIHandler):
    async def get(self):
        self.require(READ_SCOPE)
        report = await self.monitor.report_json(self.db, self.user_volume_specs)
        self.set_header("Content-Type", "application/json")
        self.set_header("Vary", "Accept-Encoding")
        if "gzip" in self.request.headers.get("Accept-Encoding", ""):
            self.set_header("Content-Encoding", "gzip")
            self.finish(report.gzipped)
        else:
            self.finish(report.text)


class ActivityResetAPIHandler(ActivityMixin, StellarsAPIHandler):
    async def post(self):
        self.require(RESET_SCOPE)
        removed = await self.monitor.reset()
        self.audit("*", "activity-reset", "ok", samples_removed=removed)
        self.write_json({"samples_removed": removed})


class ActivityPage(ActivityMixin, StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not may(self, READ_SCOPE):
            raise web.HTTPError(403, "Only administrators may see the activity monitor")
        html = await self.render_template(
            "activity.html",
            may_reset=may(self, RESET_SCOPE),
            culling_enabled=self.configured(IdleCuller).enabled,
        )
        self.finish(html)
