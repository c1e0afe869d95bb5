"""Settings page and API (admins), and the anonymous readiness endpoint."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text
from tornado import web

from ..hubsettings import StellarsHub
from ..web.base import StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import holds_globally
from . import settings_view
from .probe import CachedProbe

SETTINGS_SCOPE = "custom:settings:read"
# JupyterHub's admin role cannot be extended, so its admin-ui scope also grants the page
ADMIN_SCOPE = "admin-ui"


def may_read_settings(handler) -> bool:
    return holds_globally(handler, ADMIN_SCOPE, SETTINGS_SCOPE)


class SettingsPage(StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not may_read_settings(self):
            raise web.HTTPError(403, "Only administrators may see the hub's settings.")
        html = await self.render_template(
            "settings.html",
            categories=settings_view.by_category(self.platform.settings),
            labs_share_origin=not self.configured(StellarsHub).subdomain_host,
        )
        self.finish(html)


class SettingsAPIHandler(StellarsAPIHandler):
    def get(self):
        if not may_read_settings(self):
            who = self.current_user.name if self.current_user else "anonymous requests"
            raise http_error(
                403,
                f"{who} may not read the hub's settings (needs scope {SETTINGS_SCOPE} or {ADMIN_SCOPE}); ask an administrator",
            )
        self.write_json({"settings": settings_view.rows(self.platform.settings)})


class ReadinessHandler(StellarsPageHandler):
    """GET /hub/readiness, anonymous: can the hub do its work? 200 when its database, the
    container engine and the proxy answer; 503 naming what does not. JupyterHub's own
    /hub/health answers the other question (is the hub alive) and is what restarts the hub; an
    engine outage only makes the hub not ready, never restarted. Engine and proxy answers are
    reused for a few seconds, so probes cost them one call per interval whoever asks."""

    def check_database(self) -> str:
        try:
            self.db.execute(text("SELECT 1")).scalar()
            return "ok"
        except Exception as exc:
            self.db.rollback()
            return f"not answering ({type(exc).__name__})"

    async def report(self) -> tuple[int, dict]:
        probes = readiness_probes(self.platform, self.proxy)
        checks = {"hub": "ok", "database": self.check_database()}
        checks["engine"], checks["proxy"] = await asyncio.gather(probes["engine"].state(), probes["proxy"].state())
        down = [name for name, state in checks.items() if state != "ok"]
        if not down:
            return 200, {"ready": True, "checks": checks}
        message = "not ready: " + "; ".join(f"{n} ({checks[n]})" for n in down)
        return 503, {"status": 503, "message": message, "ready": False, "down": down, "checks": checks}

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")

    async def get(self):
        status, body = await self.report()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    async def head(self):
        status, _ = await self.report()
        self.set_status(status)
        self.finish()


def readiness_probes(platform, proxy) -> dict[str, CachedProbe]:
    return platform.shared(
        "readiness",
        lambda: {
            "engine": CachedProbe(platform.runtime.ping),
            "proxy": CachedProbe(proxy.get_all_routes),
        },
    )
