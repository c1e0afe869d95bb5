"""Settings page and API (admins), and the unauthenticated health endpoint."""

from __future__ import annotations

import asyncio
import json

from jupyterhub.handlers.pages import HealthCheckHandler
from jupyterhub.scopes import has_scope
from sqlalchemy import text
from tornado import web

from ..runtime import ContainerRuntime, new_runtime
from ..web.base import StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from . import settings_view

SETTINGS_SCOPE = "custom:settings:read"
# JupyterHub's admin role cannot be extended, so its admin-ui scope also grants the page
ADMIN_SCOPE = "admin-ui"
HEALTH_ENGINE_TIMEOUT = 3.0  # below the image HEALTHCHECK timeout (5 s)


def may_read_settings(handler) -> bool:
    scopes = handler.parsed_scopes
    return ADMIN_SCOPE in scopes or has_scope(SETTINGS_SCOPE, scopes, db=handler.db)


class SettingsPage(StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not may_read_settings(self):
            raise web.HTTPError(403, "Only administrators may see the hub's settings.")
        html = await self.render_template("settings.html", categories=settings_view.by_category(self.stellars))
        self.finish(html)


class SettingsAPIHandler(StellarsAPIHandler):
    def get(self):
        if not may_read_settings(self):
            who = self.current_user.name if self.current_user else "anonymous requests"
            raise http_error(403, f"{who} may not read the hub's settings (needs scope {SETTINGS_SCOPE} or {ADMIN_SCOPE}); ask an administrator")
        self.write_json({"settings": settings_view.rows(self.stellars)})


class HealthHandler(HealthCheckHandler):
    """GET /hub/health: 200 when the hub, its database and the engine answer; 503 naming what
    is down. No authentication, no template: cheap enough for a container probe. JupyterHub's
    own handler (which it extends, so successes are logged at debug level like JupyterHub's)
    answers 200 whatever the state of the database or the engine."""

    @property
    def engine(self) -> ContainerRuntime:
        # its own small pool and short timeout: busy user operations must not fail the probe
        return self.settings.setdefault("stellars_health_runtime", new_runtime(max_workers=1, timeout=int(HEALTH_ENGINE_TIMEOUT)))

    def check_database(self) -> str:
        db = self.db
        try:
            db.execute(text("SELECT 1")).scalar()
            return "ok"
        except Exception as exc:
            db.rollback()
            return f"not answering ({type(exc).__name__})"

    async def check_engine(self) -> str:
        try:
            await asyncio.wait_for(self.engine.ping(), HEALTH_ENGINE_TIMEOUT)
            return "ok"
        except asyncio.TimeoutError:
            return f"no answer within {HEALTH_ENGINE_TIMEOUT:.0f} s"
        except Exception as exc:
            return str(exc) or type(exc).__name__

    async def report(self) -> tuple[int, dict]:
        checks = {"hub": "ok", "database": self.check_database(), "engine": await self.check_engine()}
        down = [name for name, state in checks.items() if state != "ok"]
        if not down:
            return 200, {"healthy": True, "checks": checks}
        message = "down: " + "; ".join(f"{n} ({checks[n]})" for n in down)
        return 503, {"status": 503, "message": message, "healthy": False, "down": down, "checks": checks}

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
