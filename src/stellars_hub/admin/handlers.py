"""Settings page and API (admins), and the anonymous readiness endpoint."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text
from tornado import web

from .. import hubdb
from ..hubsettings import StellarsHub
from ..web.base import StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import holds_globally
from . import datachecks, settings_view
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
    """GET /hub/readiness, anonymous: can the hub do its work? 200 when its database (and its
    stores) answer and nobody else holds them locked, its data disk has room, and the container
    engine and the proxy answer; 503 naming what does not. JupyterHub's own
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
        hub_db = hubdb.sqlite_file(str(self.db.get_bind().url))
        probes = readiness_probes(self.platform, self.proxy, hub_db)
        checks = {"hub": "ok", "database": self.check_database()}
        locks, checks["data_disk"], checks["engine"], checks["proxy"] = await asyncio.gather(
            probes["locks"].state(), probes["data_disk"].state(), probes["engine"].state(), probes["proxy"].state()
        )
        if checks["database"] == "ok":
            checks["database"] = locks
        down = [name for name, state in checks.items() if state != "ok"]
        # ready, but something is coming that an admin should know (a full host, no lab networks);
        # the probe is anonymous: only who may read the settings learns what depends on the users
        found = self.platform.readiness_warnings(detailed=may_read_settings(self))
        warnings = {"warnings": found} if found else {}
        if not down:
            return 200, {"ready": True, "checks": checks, **warnings}
        message = "not ready: " + "; ".join(f"{n} ({checks[n]})" for n in down)
        return 503, {"status": 503, "message": message, "ready": False, "down": down, "checks": checks, **warnings}

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


def readiness_probes(platform, proxy, hub_db=None) -> dict[str, CachedProbe]:
    return platform.shared(
        "readiness",
        lambda: {
            "engine": CachedProbe(platform.runtime.ping),
            "proxy": CachedProbe(proxy.get_all_routes),
            "locks": CachedProbe(lambda: datachecks.check_locks(platform.data_dir, hub_db)),
            "data_disk": CachedProbe(lambda: datachecks.check_disk(platform.data_dir)),
        },
    )
